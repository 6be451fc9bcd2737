//! Documents that attack the server, shared by the limit tests and the
//! abuse benchmark (`benches/abuse.rs` includes this file).

/// The fragment bomb of issue 11: `levels` fragments, each spreading the
/// previous one ten times (nine levels: 810 bytes standing for 10⁹ selections).
pub fn fragment_bomb(levels: usize) -> String {
    let mut query = format!("{{ ...f{levels} }} fragment f0 on Query {{ __typename }}");
    for level in 1..=levels {
        let spreads = vec![format!("...f{}", level - 1); 10].join(" ");
        query.push_str(&format!(" fragment f{level} on Query {{ {spreads} }}"));
    }
    query
}
