//! Property test: any sequence of records, commits and compactions, read back from disk,
//! gives exactly what a plain model of the status rules says, and what the writer itself saw.

use std::collections::BTreeMap;

use proptest::prelude::*;
use reqprune::state::{Journal, Record, StateView, read_view};
use tempfile::TempDir;

use super::support::JOB;

#[derive(Debug, Clone)]
enum Op {
    Sent(usize, Vec<u64>),
    Deleted(usize, Vec<u64>),
    Absent(usize, Vec<u64>),
    Rejected(usize, u64, usize),
    Failed(usize, Vec<u64>, usize),
    Commit,
    Compact,
}

const PROJECTS: [&str; 2] = ["p-one", "p-two"];
const WORDS: [&str; 3] = ["alpha", "beta", "gamma"];

fn op() -> impl Strategy<Value = Op> {
    let ids = || prop::collection::vec(1u64..40, 1..8);
    prop_oneof![
        (0..2usize, ids()).prop_map(|(p, i)| Op::Sent(p, i)),
        (0..2usize, ids()).prop_map(|(p, i)| Op::Deleted(p, i)),
        (0..2usize, ids()).prop_map(|(p, i)| Op::Absent(p, i)),
        (0..2usize, 1u64..40, 0..3usize).prop_map(|(p, i, w)| Op::Rejected(p, i, w)),
        (0..2usize, ids(), 0..3usize).prop_map(|(p, i, w)| Op::Failed(p, i, w)),
        Just(Op::Commit),
        Just(Op::Compact),
    ]
}

/// The status rules, written out plainly: later records win, but deleted and absent are
/// final (and deleted wins over absent).
#[derive(Debug, Clone, PartialEq)]
enum Model {
    InFlight,
    Deleted,
    Absent,
    Rejected(&'static str),
    Failed(&'static str),
}

fn update(model: &mut BTreeMap<(usize, u64), Model>, project: usize, ids: &[u64], status: Model) {
    for &id in ids {
        let current = model.get(&(project, id));
        let keep = match (&status, current) {
            (Model::Deleted, _) => false,
            (_, Some(Model::Deleted)) => true,
            (Model::Absent, _) => false,
            (_, Some(Model::Absent)) => true,
            _ => false,
        };
        if !keep {
            model.insert((project, id), status.clone());
        }
    }
}

/// Whether `view` says exactly what `model` says.
fn agrees(view: &StateView, model: &BTreeMap<(usize, u64), Model>) -> Result<(), String> {
    for (p, name) in PROJECTS.iter().enumerate() {
        let project = view.project(name);
        let mut seen = 0;
        for ((_, id), status) in model.iter().filter(|((mp, _), _)| *mp == p) {
            seen += 1;
            let ok = match status {
                Model::InFlight => project.in_flight.contains(*id),
                Model::Deleted => project.deleted.contains(*id),
                Model::Absent => project.absent.contains(*id),
                Model::Rejected(code) => project
                    .rejected
                    .get(id)
                    .is_some_and(|r| r.error_code == *code),
                Model::Failed(reason) => project
                    .failures
                    .get(*reason)
                    .is_some_and(|ids| ids.contains(*id)),
            };
            if !ok {
                return Err(format!(
                    "{name} {id}: model says {status:?}, view {project:?}"
                ));
            }
        }
        let total = project.deleted.len()
            + project.absent.len()
            + project.in_flight.len()
            + project.failed.len()
            + project.rejected.len();
        if total != seen {
            return Err(format!(
                "{name}: {total} ids in the view, {seen} in the model"
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_history_reads_back_as_the_model_says(ops in prop::collection::vec(op(), 1..40)) {
        let dir = TempDir::new().unwrap();
        let mut journal = Journal::open(dir.path(), JOB).unwrap();
        journal.append(Record::run_started(None, "sha256:model")).unwrap();
        let mut model = BTreeMap::new();
        let mut events = 1;
        for op in ops {
            let record = match op {
                Op::Commit => { journal.commit().unwrap(); continue; }
                Op::Compact => { journal.compact().unwrap(); continue; }
                Op::Sent(p, ids) => {
                    update(&mut model, p, &ids, Model::InFlight);
                    Record::BatchSent { project: PROJECTS[p].into(), ids, attempt: 1 }
                }
                Op::Deleted(p, ids) => {
                    update(&mut model, p, &ids, Model::Deleted);
                    Record::BatchDeleted { project: PROJECTS[p].into(), ids, request_id: None }
                }
                Op::Absent(p, ids) => {
                    update(&mut model, p, &ids, Model::Absent);
                    Record::Absent { project: PROJECTS[p].into(), ids, request_id: None }
                }
                Op::Rejected(p, id, w) => {
                    update(&mut model, p, &[id], Model::Rejected(WORDS[w]));
                    Record::Rejected { project: PROJECTS[p].into(), id, error_code: WORDS[w].into(), error_msg: "m".into(), request_id: None }
                }
                Op::Failed(p, ids, w) => {
                    update(&mut model, p, &ids, Model::Failed(WORDS[w]));
                    Record::Failed { project: PROJECTS[p].into(), ids, reason: WORDS[w].into() }
                }
            };
            journal.append(record).unwrap();
            events += 1;
        }
        journal.commit().unwrap();
        let written = journal.view().clone();
        drop(journal);
        let read = read_view(dir.path(), JOB).unwrap();
        prop_assert_eq!(&read, &written);
        prop_assert_eq!(read.sequence, events);
        agrees(&read, &model).map_err(TestCaseError::fail)?;
    }
}
