//! Asking before deleting: the user types the job name (or `yes` for several jobs).
//!
//! `--yes` skips the question; with no terminal on stdin and no `--yes`, `apply` refuses
//! rather than guess, so a script that forgot `--yes` deletes nothing. The reader and writer
//! are parameters so the dialogue is unit-tested without a terminal.

use std::io::{BufRead, Write};

use crate::exit::Error;

/// What the user must type to go ahead: the job's name, or `yes` when there are several.
pub fn expected_answer(job_names: &[String]) -> String {
    match job_names {
        [only] => only.clone(),
        _ => "yes".to_string(),
    }
}

/// Ask on `output`, read the answer from `input`. `Ok(true)` to go ahead, `Ok(false)` when the
/// user typed something else, an error when there is no one to ask.
pub fn confirm(
    job_names: &[String],
    yes: bool,
    stdin_is_terminal: bool,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> Result<bool, Error> {
    if yes {
        return Ok(true);
    }
    if !stdin_is_terminal {
        return Err(Error::Refused(
            "stdin is not a terminal, so there is no one to confirm the deletion; \
             review the plan and pass --yes to apply without confirmation"
                .into(),
        ));
    }
    let expected = expected_answer(job_names);
    let question = match job_names {
        [only] => format!("Type the job name `{only}` to delete these work items: "),
        _ => format!(
            "Type `yes` to delete these work items in {} jobs: ",
            job_names.len()
        ),
    };
    let io = |e| Error::io("asking for confirmation", e);
    output.write_all(question.as_bytes()).map_err(io)?;
    output.flush().map_err(io)?;
    let mut answer = String::new();
    input.read_line(&mut answer).map_err(io)?;
    Ok(answer.trim() == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(names: &[&str], yes: bool, tty: bool, typed: &str) -> (Result<bool, Error>, String) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut out = Vec::new();
        let result = confirm(&names, yes, tty, &mut typed.as_bytes(), &mut out);
        (result, String::from_utf8(out).unwrap())
    }

    #[test]
    fn one_job_wants_its_name() {
        let (ok, asked) = ask(&["q3-cleanup"], false, true, "q3-cleanup\n");
        assert!(ok.unwrap());
        assert_eq!(
            asked,
            "Type the job name `q3-cleanup` to delete these work items: "
        );
        assert!(!ask(&["q3-cleanup"], false, true, "yes\n").0.unwrap());
        assert!(!ask(&["q3-cleanup"], false, true, "").0.unwrap());
    }

    #[test]
    fn several_jobs_want_yes() {
        let (ok, asked) = ask(&["a", "b"], false, true, " yes \n");
        assert!(ok.unwrap());
        assert!(asked.contains("in 2 jobs"));
        assert!(!ask(&["a", "b"], false, true, "a\n").0.unwrap());
    }

    #[test]
    fn yes_skips_and_no_terminal_refuses() {
        let (ok, asked) = ask(&["a"], true, false, "");
        assert!(ok.unwrap());
        assert!(asked.is_empty());
        let (refused, asked) = ask(&["a"], false, false, "a\n");
        assert!(matches!(refused, Err(Error::Refused(m)) if m.contains("--yes")));
        assert!(asked.is_empty());
    }
}
