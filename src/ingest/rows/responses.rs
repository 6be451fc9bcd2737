//! Survey responses with their brand answers and attribute ratings, which
//! a re-sent response replaces.

use async_trait::async_trait;
use entity::{brand_answer, driver_rating, survey_response};
use sea_orm::ActiveValue::Set;
use sea_orm::DatabaseTransaction;

use crate::error::Error;
use crate::ingest::kinds::{EntityKind, Kind, Reference, Row};
use crate::ingest::records::{FieldError, SurveyResponseRecord};
use crate::ingest::references::References;
use crate::ingest::upsert::{delete_children, insert_rows};

impl SurveyResponseRecord {
    fn survey(&self) -> Reference<'_> {
        Reference::to(EntityKind::Surveys, "surveyExternalId", &self.survey_external_id)
    }

    /// The respondent, when known (responses may be anonymous).
    fn customer(&self) -> Option<Reference<'_>> {
        (self.customer_external_id.as_deref())
            .map(|key| Reference::to(EntityKind::Customers, "customerExternalId", key))
    }
}

#[async_trait]
impl Kind for SurveyResponseRecord {
    const KIND: EntityKind = EntityKind::SurveyResponses;
    type Entity = survey_response::Entity;
    const HAS_CHILDREN: bool = true;

    fn references(&self) -> Vec<Reference<'_>> {
        std::iter::once(self.survey()).chain(self.customer()).collect()
    }

    fn row(&self, references: &References) -> Result<Row<Self>, FieldError> {
        Ok(survey_response::ActiveModel {
            external_id: Set(self.external_id.clone()),
            survey_id: Set(references.id(&self.survey())?),
            customer_id: Set(references.id_if(self.customer().as_ref())?),
            region: Set(self.region.clone()),
            responded_at: Set(self.responded_at),
            nps_score: Set(self.nps_score),
            purchase_intent: Set(self.purchase_intent),
            comment: Set(self.comment.clone()),
            ..Default::default()
        })
    }

    async fn replace_children(
        db: &DatabaseTransaction,
        _: &References,
        parents: Vec<(i64, Self)>,
    ) -> Result<(), Error> {
        let ids: Vec<i64> = parents.iter().map(|(id, _)| *id).collect();
        delete_children::<brand_answer::Entity>(db, brand_answer::Column::ResponseId, &ids).await?;
        delete_children::<driver_rating::Entity>(db, driver_rating::Column::ResponseId, &ids).await?;
        let mut answers = Vec::new();
        let mut ratings = Vec::new();
        for (response_id, response) in parents {
            answers.extend(response.brands.into_iter().map(|answer| brand_answer::ActiveModel {
                response_id: Set(response_id),
                brand: Set(answer.brand),
                aware: Set(answer.aware),
                considered: Set(answer.considered),
                preferred: Set(answer.preferred),
                ..Default::default()
            }));
            ratings.extend(response.ratings.into_iter().map(|rating| driver_rating::ActiveModel {
                response_id: Set(response_id),
                attribute: Set(rating.attribute),
                rating: Set(rating.rating),
                ..Default::default()
            }));
        }
        insert_rows(db, answers).await?;
        insert_rows(db, ratings).await
    }
}
