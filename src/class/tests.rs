//! Every variant is classified once, and the service's status follows the class.

use super::variants::every_variant;
use super::*;
use axum::http::StatusCode;

#[test]
fn every_variant_is_classified_once() {
    let all = every_variant();
    assert_eq!(all.len(), 81, "a variant was added or removed: list it here once");
    for (e, class) in &all {
        assert_eq!(e.class(), *class, "{e:?}");
    }
}

/// The service answers each class the same way, whatever the stage.
#[test]
fn the_service_status_follows_the_class() {
    for (e, class) in every_variant() {
        let status = crate::serve::library_error_status(&e);
        let expected = match class {
            Class::BadInput | Class::Findings => StatusCode::UNPROCESSABLE_ENTITY,
            Class::Upstream if e.is_timeout() => StatusCode::GATEWAY_TIMEOUT,
            Class::Upstream => StatusCode::BAD_GATEWAY,
            Class::Fault => StatusCode::INTERNAL_SERVER_ERROR,
        };
        assert_eq!(status, expected, "{e:?}");
    }
}
