//! Every provider crate under `providers/` is linked through the facade and registered.

use std::collections::BTreeSet;

use fast_autoscaler_providers as providers;
use fast_autoscaler_tests::workspace_root;

/// Provider crates are the folders of `providers/` except the trait crate, the
/// facade and the AWS helpers several providers share.
fn provider_folders() -> BTreeSet<String> {
    std::fs::read_dir(workspace_root().join("providers"))
        .expect("providers/ exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !["core", "all", "support"].contains(&name.as_str()))
        .collect()
}

#[test]
fn every_provider_crate_is_registered() {
    let registered: BTreeSet<String> = providers::registered_names()
        .into_iter()
        .map(String::from)
        .collect();
    let folders = provider_folders();
    assert!(!folders.is_empty());
    for folder in &folders {
        assert!(
            registered.contains(folder),
            "providers/{folder} is not registered: add it to providers/all (one dependency and one `pub use` line) \
             and submit a ProviderRegistration named {folder:?}; registered: {registered:?}"
        );
    }
    let linked: BTreeSet<String> = providers::LINKED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        linked, registered,
        "LINKED in providers/all must list every registered provider"
    );
}

#[test]
fn unknown_names_answer_with_every_registered_name() {
    let err = providers::find("kafka")
        .err()
        .expect("kafka is not a provider")
        .to_string();
    for name in providers::registered_names() {
        assert!(err.contains(name), "{err}");
    }
    assert!(err.contains("\"kafka\""), "{err}");
    assert_eq!(
        providers::find("SQS").expect("case-insensitive").name,
        "sqs"
    );
}
