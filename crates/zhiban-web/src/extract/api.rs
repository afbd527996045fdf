//! Query strings of the JSON API: a value that does not parse (`?limit=abc`)
//! gets the API's documented JSON error, not a plain-text rejection.

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// `Query<T>` for the API.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(AppError::Api {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_parameter",
                message: e.body_text(),
            }),
        }
    }
}
