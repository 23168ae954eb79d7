//! Seeding syntax shared by `--project` and `--seed-file`: `PID=FROM-TO[,FROM-TO|,ID...]`.
//!
//! A seed file holds one such spec per line; blank lines and `#` comments are skipped, and an
//! error names the file and line. Several specs for one project add up.

use std::collections::BTreeMap;
use std::path::Path;

use super::SandboxError;

/// Parse `PID=FROM-TO[,FROM-TO...]` (a bare `ID` is the range `ID-ID`).
pub fn parse_project(spec: &str) -> Result<(String, Vec<(u64, u64)>), String> {
    let (pid, ranges) = spec
        .split_once('=')
        .ok_or_else(|| format!("{spec:?} is not PID=FROM-TO[,FROM-TO...]"))?;
    let pid = pid.trim();
    if pid.len() != 32 || !pid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("project id {pid:?} is not 32 letters or digits"));
    }
    let mut out = Vec::new();
    for part in ranges.split(',').map(str::trim) {
        let number = |s: &str| -> Result<u64, String> {
            s.trim()
                .parse()
                .map_err(|_| format!("{part:?} is not an id or a FROM-TO range"))
        };
        let (from, to) = match part.split_once('-') {
            Some((from, to)) => (number(from)?, number(to)?),
            None => {
                let id = number(part)?;
                (id, id)
            }
        };
        if from > to {
            return Err(format!("range {part:?} is reversed"));
        }
        out.push((from, to));
    }
    Ok((pid.to_string(), out))
}

/// Read a seed file into `projects`.
pub fn read_file(
    path: &Path,
    projects: &mut BTreeMap<String, Vec<(u64, u64)>>,
) -> Result<(), SandboxError> {
    let text = std::fs::read_to_string(path).map_err(|source| SandboxError::Io {
        context: "reading the seed file",
        path: path.display().to_string(),
        source,
    })?;
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (pid, ranges) = parse_project(line).map_err(|message| SandboxError::SeedFile {
            path: path.display().to_string(),
            line: n + 1,
            message,
        })?;
        projects.entry(pid).or_default().extend(ranges);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PID: &str = "526cefde62004de2b62b5e8dd2c2b3af";

    #[test]
    fn parses_ranges_and_single_ids() {
        let (pid, ranges) = parse_project(&format!("{PID}=1-10, 15,20-20")).unwrap();
        assert_eq!(pid, PID);
        assert_eq!(ranges, vec![(1, 10), (15, 15), (20, 20)]);
    }

    #[test]
    fn rejects_malformed_specs() {
        for bad in [
            "nope".to_string(),
            "short=1-2".to_string(),
            format!("{PID}=5-1"),
            format!("{PID}=a-b"),
            format!("{PID}="),
        ] {
            assert!(parse_project(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seed_file_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.txt");
        std::fs::write(&path, format!("# items\n{PID}=1-3\n\n{PID}=oops\n")).unwrap();
        let mut projects = BTreeMap::new();
        let err = read_file(&path, &mut projects).unwrap_err().to_string();
        assert!(err.contains("seed.txt:4:"), "{err}");
        std::fs::write(&path, format!("{PID}=1-3 # first\n{PID}=7\n")).unwrap();
        let mut projects = BTreeMap::new();
        read_file(&path, &mut projects).unwrap();
        assert_eq!(projects[PID], vec![(1, 3), (7, 7)]);
    }
}
