//! Search quality over the demo catalog, measured the way
//! `zhiban eval search` does: these sets must keep finding the right item
//! in the top 3 for at least 95% of the queries.

use std::path::PathBuf;

use zhiban_domain::catalog::CatalogSnapshot;
use zhiban_domain::search_docs;
use zhiban_search::SearchIndex;
use zhiban_search::eval::evaluate;
use zhiban_testing::TestDb;

async fn demo_index() -> SearchIndex {
    demo_index_of(false).await
}

/// The demo catalog's services and, with `articles`, its published
/// articles (policies, interpretations, news), as the portal's search
/// holds them.
async fn demo_index_of(articles: bool) -> SearchIndex {
    let t = TestDb::demo().await.expect("db");
    let snapshot = CatalogSnapshot::load(&t.db).await.expect("snapshot");
    let index = SearchIndex::open(None).expect("index");
    index
        .replace_kind("service", search_docs::service_docs(&snapshot))
        .expect("indexed");
    if articles {
        let (docs, _) = search_docs::article_docs(&t.db).await.expect("articles");
        index.replace_kind("article", docs).expect("indexed");
    }
    index
}

fn assert_good(name: &str, tsv: &str, index: &SearchIndex) {
    let r = evaluate(index, tsv);
    assert!(
        r.bad_lines.is_empty(),
        "{name}: unreadable lines {:?}",
        r.bad_lines
    );
    assert!(r.queries >= 30, "{name}: only {} queries", r.queries);
    assert!(
        r.top3_rate() >= 95.0,
        "{name}: top-3 {:.1}% < 95%; misses: {:#?}",
        r.top3_rate(),
        r.misses
    );
}

#[tokio::test]
async fn our_citizen_query_set_finds_the_right_item_in_the_top_three() {
    let index = demo_index().await;
    assert_good(
        "citizen_queries.tsv",
        include_str!("../../../../tests/search/citizen_queries.tsv"),
        &index,
    );
}

#[tokio::test]
async fn policy_questions_find_the_policy_or_its_interpretation_in_the_top_three() {
    let index = demo_index_of(true).await;
    assert_good(
        "policy_queries.tsv",
        include_str!("../../../../tests/search/policy_queries.tsv"),
        &index,
    );
}

#[tokio::test]
async fn the_shared_development_set_finds_the_right_item_in_the_top_three() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval/search_dev.tsv");
    let tsv = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        // CI always has shared/ beside the checkout; a bare clone may not.
        Err(_) if std::env::var("CI").is_err() => {
            eprintln!("skipping: {} not found", path.display());
            return;
        }
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let index = demo_index().await;
    assert_good("search_dev.tsv", &tsv, &index);
}

/// English queries find the items by their English names and English
/// search words (#19): the dev set and a held-out set written without
/// seeing those names (figures in docs/BENCHMARKS.md: 97.1% and 92.5%
/// top-3 on 2026-12-07).
#[tokio::test]
async fn english_queries_find_the_item_in_the_top_three() {
    let index = demo_index().await;
    for (name, tsv, floor) in [
        (
            "english_queries.tsv",
            include_str!("../../../../tests/search/english_queries.tsv"),
            95.0,
        ),
        (
            "english_unseen.tsv",
            include_str!("../../../../tests/search/english_unseen.tsv"),
            90.0,
        ),
    ] {
        let r = evaluate(&index, tsv);
        assert!(r.bad_lines.is_empty(), "{name}: {:?}", r.bad_lines);
        assert!(r.queries >= 30, "{name}: only {} queries", r.queries);
        assert!(
            r.top3_rate() >= floor,
            "{name}: top-3 {:.1}%; misses: {:#?}",
            r.top3_rate(),
            r.misses
        );
    }
}

/// People describing their situation, in 重庆话 and 口语, and with
/// look-alike typos (#19): the dev set, a set written before the situation
/// lexicon was grown (its misses were seen once), and a held-out set a
/// separate helper wrote from the catalog's names alone. Floors sit under
/// the figures of 2026-12-08 in docs/BENCHMARKS.md (96.9%, 100%, 71.1%
/// top-3; before the lexicon 78.1%, 50.0%, 57.8%).
#[tokio::test]
async fn situations_dialect_and_look_alike_typos_find_the_item() {
    let index = demo_index().await;
    for (name, tsv, floor) in [
        (
            "situations.tsv",
            include_str!("../../../../tests/search/situations.tsv"),
            93.0,
        ),
        (
            "situations_unseen.tsv",
            include_str!("../../../../tests/search/situations_unseen.tsv"),
            95.0,
        ),
        (
            "situations_heldout.tsv",
            include_str!("../../../../tests/search/situations_heldout.tsv"),
            68.0,
        ),
    ] {
        let r = evaluate(&index, tsv);
        assert!(r.bad_lines.is_empty(), "{name}: {:?}", r.bad_lines);
        assert!(r.queries >= 24, "{name}: only {} queries", r.queries);
        assert!(
            r.top3_rate() >= floor,
            "{name}: top-3 {:.1}%; misses: {:#?}",
            r.top3_rate(),
            r.misses
        );
    }
}
