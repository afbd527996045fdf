//! The OpenAPI description of the JSON API, served at `/api/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

use crate::handlers::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Zhiban API",
        description = "智办政务门户开放接口：事项目录（办事指南）、一件事一次办、智能搜索、智能客服、好差评统计、电子证照核验。",
        version = "1"
    ),
    paths(
        api::list_services,
        api::get_service,
        api::list_bundles,
        api::ratings_summary,
        api::search,
        api::suggest,
        api::assistant,
        api::verify_license,
        api::verify_license_file
    ),
    components(schemas(
        api::ServiceList,
        api::ServiceSummary,
        api::ServiceDetail,
        api::BundleView,
        api::BundleItemView,
        api::RatingsSummary,
        api::RatingFigures,
        zhiban_domain::bundles::Question,
        zhiban_domain::bundles::Condition,
        api::SearchResponse,
        api::SearchResult,
        api::Suggestions,
        api::AssistantAnswer,
        api::AssistantSource,
        api::AssistantChoice,
        api::LicenseCheck,
        api::LicenseFileCheck
    )),
    tags(
        (name = "catalog", description = "政务服务事项目录"),
        (name = "search", description = "智能搜索"),
        (name = "assistant", description = "智能客服"),
        (name = "ratings", description = "好差评统计"),
        (name = "licenses", description = "电子证照核验")
    )
)]
pub struct ApiDoc;

pub async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
