use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

use crate::error::AppError;
use crate::web::AppState;

/// 200 when the database answers a query; 500 otherwise.
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state
        .db(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("ok\n"))
}
