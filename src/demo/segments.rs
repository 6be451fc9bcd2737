//! The saved segments of the demo data set: a few rules a sales or
//! marketing team would keep, created and refreshed after the records are
//! written, so that `account.segments`, size history and the member pages
//! have something to show. Their windows count back from today, as every
//! segment's do; the data's last day is today unless `--as-of` moved it.

use entity::enums::{SurveyKind, Team};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::error::Error;
use crate::segments::behaviour::{Comparison, NpsCategory, Purchased, Responded, Touched};
use crate::segments::rule::Operator;
use crate::segments::{self, NewSegment, Rule};

/// Each demo segment: name, team, what it selects, and its rule.
fn demo_segments() -> Vec<NewSegment> {
    let touched = |team, days| {
        Rule::Touched(Touched {
            team: Some(team),
            window_days: Some(days),
            ..Touched::default()
        })
    };
    let ordered = |count: Option<f64>, days| {
        Rule::Purchased(Purchased {
            count: count.map(|value| Comparison {
                operator: Operator::Gte,
                value,
            }),
            window_days: Some(days),
            ..Purchased::default()
        })
    };
    vec![
        NewSegment {
            name: "NPS promoters".to_owned(),
            description: Some("Customers who gave a 9 or 10 in an NPS survey".to_owned()),
            team: Team::Marketing,
            rule: Rule::Responded(Responded {
                survey_kind: Some(SurveyKind::Nps),
                nps_category: Some(NpsCategory::Promoter),
                ..Responded::default()
            }),
        },
        NewSegment {
            name: "Engaged by marketing, no order in 90 days".to_owned(),
            description: Some("A marketing touch in the last 90 days and no order in them".to_owned()),
            team: Team::Marketing,
            rule: Rule::All(vec![
                touched(Team::Marketing, 90),
                Rule::Not(Box::new(ordered(None, 90))),
            ]),
        },
        NewSegment {
            name: "Repeat buyers in touch with sales".to_owned(),
            description: Some("Two or more orders and a sales touch in the last year".to_owned()),
            team: Team::Sales,
            rule: Rule::All(vec![touched(Team::Sales, 365), ordered(Some(2.0), 365)]),
        },
    ]
}

/// Creates and refreshes the demo segments when the database has no
/// segment yet; returns each one's name and size.
pub async fn save(db: &DatabaseConnection) -> Result<Vec<(String, i64)>, Error> {
    if entity::segment::Entity::find().count(db).await? > 0 {
        return Ok(Vec::new());
    }
    let mut saved = Vec::new();
    for segment in demo_segments() {
        let name = segment.name.clone();
        let created = segments::create(db, segment).await?;
        let refreshed = segments::refresh(db, created.id).await?;
        saved.push((name, refreshed.size));
    }
    Ok(saved)
}
