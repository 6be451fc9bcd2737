//! Small-population suppression: the one rule that decides whether a
//! viewer may see a value computed over a given number of people.
//!
//! A viewer without PII access (ANALYST, DASHBOARD) must not learn about
//! one person through an aggregate: a value computed over fewer customers
//! or respondents than the minimum audience size
//! (`ACCORD_MIN_AUDIENCE_SIZE`, default 10) is withheld — its numbers and
//! counts are null and it says `suppressed: true` — so all the viewer
//! learns is that its population is below the minimum. Zero is below the
//! minimum too: "nobody" and "one person" must look alike. Viewers with
//! PII access (ADMIN, SALES, MARKETING) see every value.
//!
//! The population of a value is what it is computed over: the customers
//! of a cohort, group or segment, the respondents (survey responses, test
//! votes) of a score, the distinct customers behind a period's orders or
//! leads, the `n` of a rate. A count inside a value (promoters, retained
//! customers) is shown whenever its population is shown.

use crate::auth::Viewer;

/// Which populations a viewer may see values of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppression {
    /// The smallest population shown; `None` shows everything.
    minimum: Option<i64>,
}

impl Suppression {
    /// Nothing is suppressed.
    pub const NONE: Suppression = Suppression { minimum: None };

    /// Everything is suppressed: for the parts of a value whose whole is
    /// withheld (a funnel's rates, both sides of a comparison).
    pub const EVERYTHING: Suppression = Suppression {
        minimum: Some(i64::MAX),
    };

    /// The rule for `viewer` with the configured minimum audience size.
    pub fn for_viewer(viewer: &Viewer, minimum_audience_size: i64) -> Self {
        if viewer.may_read_pii() || minimum_audience_size <= 0 {
            Self::NONE
        } else {
            Self {
                minimum: Some(minimum_audience_size),
            }
        }
    }

    /// Whether a value computed over `population` people is withheld.
    pub fn hides(self, population: i64) -> bool {
        self.minimum.is_some_and(|minimum| population < minimum)
    }

    /// `value` unless its population is withheld.
    pub fn shown<T>(self, population: i64, value: T) -> Option<T> {
        (!self.hides(population)).then_some(value)
    }

    /// The minimum population shown, when anything is suppressed.
    pub fn minimum(self) -> Option<i64> {
        self.minimum
    }
}

#[cfg(test)]
mod tests {
    use entity::enums::Role;

    use super::*;

    impl Suppression {
        fn for_role(role: Role, minimum_audience_size: i64) -> Self {
            Self::for_viewer(
                &Viewer {
                    role,
                    api_key_id: None,
                    subject: None,
                    expires_at: None,
                },
                minimum_audience_size,
            )
        }
    }

    #[test]
    fn roles_without_pii_access_see_only_populations_at_the_minimum() {
        for role in [Role::Analyst, Role::Dashboard] {
            let rule = Suppression::for_role(role, 10);
            assert!(rule.hides(0), "{role}");
            assert!(rule.hides(9), "{role}");
            assert!(!rule.hides(10), "{role}");
            assert_eq!(rule.shown(3, 42), None);
            assert_eq!(rule.shown(12, 42), Some(42));
        }
    }

    #[test]
    fn roles_with_pii_access_see_everything() {
        for role in [Role::Admin, Role::Sales, Role::Marketing] {
            let rule = Suppression::for_role(role, 10);
            assert_eq!(rule, Suppression::NONE, "{role}");
            assert!(!rule.hides(0));
            assert!(!rule.hides(1));
        }
    }

    #[test]
    fn a_minimum_of_zero_or_one_hides_only_what_is_below_it() {
        assert_eq!(Suppression::for_role(Role::Dashboard, 0), Suppression::NONE);
        let one = Suppression::for_role(Role::Dashboard, 1);
        assert!(one.hides(0));
        assert!(!one.hides(1));
    }
}
