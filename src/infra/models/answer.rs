use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{ResponseId, WaveId};
use crate::infra::db::DbConn;
use crate::infra::db::schema::answers;

/// One answer to one item. Exactly one of `value` (numbers, scale points, yes/no as 0/1),
/// `text_value` (a choice code) and `missing_code` (`DK`, `NA`) is set; a CHECK
/// constraint holds the database to that.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = answers)]
pub struct Answer {
    pub response_id: ResponseId,
    pub wave_id: WaveId,
    pub item_code: String,
    pub value: Option<f64>,
    pub text_value: Option<String>,
    pub missing_code: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = answers, treat_none_as_default_value = false)]
pub struct NewAnswer {
    pub response_id: ResponseId,
    pub wave_id: WaveId,
    pub item_code: String,
    pub value: Option<f64>,
    pub text_value: Option<String>,
    pub missing_code: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// All three value columns are written together so that changing an answer from a value
/// to a missing code clears the value.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = answers, treat_none_as_null = true)]
pub struct AnswerChanges {
    pub value: Option<f64>,
    pub text_value: Option<String>,
    pub missing_code: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl Answer {
    pub fn for_response(conn: &mut DbConn, id: &ResponseId) -> QueryResult<Vec<Self>> {
        answers::table
            .filter(answers::response_id.eq(id))
            .order(answers::item_code)
            .select(Self::as_select())
            .load(conn)
    }

    pub fn insert_all(conn: &mut DbConn, rows: &[NewAnswer]) -> QueryResult<usize> {
        // On SQLite a one-row insert is a prepared statement diesel keeps; a multi-row
        // insert of a varying length is parsed anew each time, which costs more than the
        // rows of one questionnaire. Bulk loads still go many rows at a time.
        if let crate::infra::db::DbConn::Sqlite(c) = conn
            && rows.len() <= 64
        {
            let mut inserted = 0;
            for row in rows {
                inserted += diesel::insert_into(answers::table).values(row).execute(c)?;
            }
            return Ok(inserted);
        }
        let mut inserted = 0;
        for chunk in rows.chunks(500) {
            inserted +=
                crate::infra::db::on_backend!(conn, |c| diesel::insert_into(answers::table)
                    .values(chunk)
                    .execute(c))?;
        }
        Ok(inserted)
    }

    pub fn update(
        conn: &mut DbConn,
        response: &ResponseId,
        item_code: &str,
        changes: &AnswerChanges,
    ) -> QueryResult<usize> {
        diesel::update(answers::table.find((response, item_code)))
            .set(changes)
            .execute(conn)
    }

    pub fn count_for_wave(conn: &mut DbConn, wave: &WaveId) -> QueryResult<i64> {
        answers::table
            .filter(answers::wave_id.eq(wave))
            .count()
            .get_result(conn)
    }
}
