//! Embedded mode: the sandbox `apply` starts in-process for a job with `endpoint: sandbox`.
//!
//! Seeded with the job's own ids (each project's delete ∪ protect sets) and any credential
//! accepted, so a demo job runs on a fresh machine with no account. Its items persist under
//! `<state_dir>/sandbox/<job name>.json` as ranges (seeded and deleted), written atomically
//! (a temporary file in the same folder, then a rename) shortly after every change and on
//! shutdown, so a second run finds the items already gone. Ids a later version of the job
//! adds are seeded then; ids deleted stay deleted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::server::App;
use super::store::Store;
use super::{Sandbox, SandboxConfig, SandboxError};
use crate::atomic_file;
use crate::checked::Job;

/// At most one save per this interval while deletions go on.
const SAVE_EVERY: Duration = Duration::from_millis(200);

/// The persisted items of one job's sandbox.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedState {
    format_version: u32,
    job: String,
    projects: BTreeMap<String, SavedProject>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedProject {
    /// Inclusive ranges of every id created.
    seeded: Vec<(u64, u64)>,
    /// Inclusive ranges of the ids deleted.
    deleted: Vec<(u64, u64)>,
}

/// Where a job's embedded sandbox keeps its items.
pub fn state_path(state_dir: &Path, job_name: &str) -> PathBuf {
    state_dir.join("sandbox").join(format!("{job_name}.json"))
}

/// Start the embedded sandbox for `job`, seeded (first use) or restored from the state folder.
/// Call [`Sandbox::shutdown`] when done so the last deletions are saved.
pub async fn start_for_job(state_dir: &Path, job: &Job) -> Result<Sandbox, SandboxError> {
    let path = state_path(state_dir, &job.name);
    let saved = load(&path)?;
    let mut store = Store::default();
    for (id, project) in &saved.projects {
        store.add_project(id, &project.seeded)?;
    }
    for project in &job.projects {
        let ids = project.delete.union(&project.protect);
        store.add_project(&project.id, &ids.ranges())?;
    }
    for (id, project) in &saved.projects {
        if let Some(p) = store.projects.get_mut(id) {
            p.restore_deleted(&project.deleted);
        }
    }
    let config = SandboxConfig {
        open_auth: true,
        ..SandboxConfig::default()
    };
    let mut sandbox = Sandbox::start_with_store(config, store).await?;
    let saver = Saver::spawn(path, job.name.clone(), sandbox.app.clone());
    saver.save_now(&sandbox.app)?;
    sandbox.saver = Some(saver);
    Ok(sandbox)
}

fn load(path: &Path) -> Result<SavedState, SandboxError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SavedState::default()),
        Err(source) => {
            return Err(SandboxError::Io {
                context: "reading",
                path: path.display().to_string(),
                source,
            });
        }
    };
    let saved: SavedState = serde_json::from_str(&text).map_err(|e| SandboxError::Corrupt {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if saved.format_version != 1 {
        return Err(SandboxError::Corrupt {
            path: path.display().to_string(),
            message: format!("unknown format_version {}", saved.format_version),
        });
    }
    Ok(saved)
}

/// Saves the items after changes (debounced) and on shutdown.
pub(crate) struct Saver {
    path: PathBuf,
    job: String,
    task: tokio::task::JoinHandle<()>,
}

impl Saver {
    fn spawn(path: PathBuf, job: String, app: Arc<App>) -> Saver {
        let (task_path, task_job) = (path.clone(), job.clone());
        let task = tokio::spawn(async move {
            loop {
                app.changed.notified().await;
                tokio::time::sleep(SAVE_EVERY).await;
                // A failed background save is retried at the next change and at shutdown,
                // which reports the error.
                let _ = write(&task_path, &snapshot(&app, &task_job));
            }
        });
        Saver { path, job, task }
    }

    fn save_now(&self, app: &App) -> Result<(), SandboxError> {
        write(&self.path, &snapshot(app, &self.job))
    }

    /// Stop the background saver and write the final state.
    pub(crate) async fn finish(self, app: &App) {
        let Saver { path, job, task } = self;
        task.abort();
        let _ = task.await;
        if let Err(e) = write(&path, &snapshot(app, &job)) {
            tracing::error!("{e}");
        }
    }
}

fn snapshot(app: &App, job: &str) -> SavedState {
    let store = app.store.lock().unwrap_or_else(|e| e.into_inner());
    SavedState {
        format_version: 1,
        job: job.to_string(),
        projects: store
            .projects
            .iter()
            .map(|(id, p)| {
                let saved = SavedProject {
                    seeded: p.seeded_ranges().to_vec(),
                    deleted: p.deleted_ranges(),
                };
                (id.clone(), saved)
            })
            .collect(),
    }
}

/// Write atomically, through [`atomic_file::replace`].
fn write(path: &Path, state: &SavedState) -> Result<(), SandboxError> {
    let io = |context: &'static str, source: std::io::Error| SandboxError::Io {
        context,
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io("creating the folder of", e))?;
    let json = serde_json::to_vec_pretty(state).expect("the saved state always serializes");
    atomic_file::replace(path, |out| out.write_all(&json))
        .map_err(|e| io(e.step.action(), e.source))
}
