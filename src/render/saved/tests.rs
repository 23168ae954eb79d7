//! The saved plan round-trips exactly, and the reader refuses every damaged or edited file
//! with a reason instead of executing part of it.

use super::*;
use crate::plan::tests::sample_plan;

fn parse(text: &str) -> Result<Plan, String> {
    parse_saved_plan(text.as_bytes()).map_err(|e| match e {
        Problem::Syntax(e) => format!("syntax: {e}"),
        Problem::Invalid(m) => m,
    })
}

#[test]
fn round_trips_exactly() {
    let plan = sample_plan();
    let text = render(&plan);
    assert_eq!(parse(&text).unwrap(), plan);
    assert_eq!(render(&parse(&text).unwrap()), text);
}

#[test]
fn sample_saved_plan() {
    insta::assert_snapshot!(render(&sample_plan()));
}

#[test]
fn plan_id_is_the_hash_of_the_bytes() {
    let text = render(&sample_plan());
    assert_eq!(plan_id(text.as_bytes()), plan_id(text.as_bytes()));
    assert_ne!(
        plan_id(text.as_bytes()),
        plan_id(format!("{text} ").as_bytes())
    );
    assert!(plan_id(b"").starts_with("sha256:e3b0c442"));
}

#[test]
fn reads_from_a_file_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let text = render(&sample_plan());
    std::fs::write(&path, &text).unwrap();
    let (plan, id) = read_saved_plan(&path).unwrap();
    assert_eq!(plan, sample_plan());
    assert_eq!(id, plan_id(text.as_bytes()));
    let missing = read_saved_plan(&dir.path().join("nope.json")).unwrap_err();
    assert!(matches!(missing, SavedPlanError::Read { .. }));
}

/// The sample saved plan with one edit made to its JSON.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&render(&sample_plan())).unwrap();
    edit(&mut value);
    serde_json::to_string_pretty(&value).unwrap()
}

#[test]
fn refuses_damaged_or_edited_plans() {
    let text = render(&sample_plan());
    let payments = "/jobs/0/projects/0";
    let ids = |value: &mut serde_json::Value, key: &str| -> Vec<serde_json::Value> {
        let list = value.pointer_mut(&format!("{payments}/{key}")).unwrap();
        list.as_array_mut().unwrap().clone()
    };
    let set = |value: &mut serde_json::Value, key: &str, new: serde_json::Value| {
        *value.pointer_mut(&format!("{payments}/{key}")).unwrap() = new;
    };
    let cases: Vec<(String, &str)> = vec![
        (
            crate::render::json::render(&sample_plan()),
            "missing field `token_name`",
        ),
        (
            edited(|v| v["format_version"] = 2.into()),
            "format_version 2 is not supported",
        ),
        (text[..text.len() / 2].to_string(), "syntax: EOF"),
        (String::from("\u{0}garbage"), "syntax:"),
        (
            edited(|v| {
                let mut list = ids(v, "delete_ids");
                list.swap(0, 1);
                set(v, "delete_ids", list.into());
            }),
            "delete_ids are not sorted and distinct",
        ),
        (
            edited(|v| {
                let mut list = ids(v, "delete_ids");
                list.insert(50, 1660150.into());
                set(v, "delete_ids", list.into());
            }),
            "both to delete and protected",
        ),
        (
            edited(|v| {
                let mut list = ids(v, "delete_ids");
                list.insert(0, 1660099.into());
                set(v, "delete_ids", list.into());
            }),
            "`totals` do not add up",
        ),
        (
            edited(|v| {
                let mut list = ids(v, "delete_ids");
                list.insert(0, 0.into());
                set(v, "delete_ids", list.into());
            }),
            "outside 1..=9999999999",
        ),
        (
            edited(|v| set(v, "batch_count", 2.into())),
            "batch_count does not match",
        ),
        (
            edited(|v| v["jobs"][0]["limits"]["batch_size"] = 0.into()),
            "batch_size 0 is outside",
        ),
        (
            edited(|v| v["jobs"][0]["projects"][0]["extra"] = 1.into()),
            "unknown field `extra`",
        ),
        (
            edited(|v| set(v, "project_id", "526c-bad".into())),
            "not 32 letters and digits",
        ),
    ];
    for (input, expected) in cases {
        let error = parse(&input).expect_err(expected);
        assert!(error.contains(expected), "{expected:?} not in {error:?}");
    }
    // The unedited document, re-serialised the same way, is accepted.
    assert!(parse(&edited(|_| ())).is_ok());
}
