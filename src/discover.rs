//! Finding job files: each path given is a file, or a folder searched recursively for
//! `*.yaml` and `*.yml`. The order is sorted (per folder, by path), so diagnostics and plans
//! come out the same on every machine.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// The job files under `paths`, sorted and without duplicates, and a diagnostic for each path
/// that does not exist or holds no job file.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(path, &mut found) {
                problems.push(Diagnostic::error(
                    "file-unreadable",
                    format!("cannot read folder {}: {e}", path.display()),
                ));
            }
            if found.is_empty() {
                problems.push(Diagnostic::error(
                    "no-job-files",
                    format!("no `*.yaml` or `*.yml` file in {}", path.display()),
                ));
            }
            found.sort();
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            problems.push(
                Diagnostic::error(
                    "path-not-found",
                    format!("{} does not exist", path.display()),
                )
                .hint("give job files or folders of job files; with no path, `jobs/`"),
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.canonicalize().unwrap_or_else(|_| f.clone())));
    (files, problems)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_searched_recursively_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yaml", "a.yml", "notes.txt", "sub/c.yaml"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let (files, problems) = discover(&[dir.path().to_path_buf(), dir.path().join("missing")]);
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                f.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, vec!["a.yml", "b.yaml", "sub/c.yaml"]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "path-not-found");
    }
}
