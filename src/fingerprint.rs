//! Fingerprints: a SHA-256 over every byte a job's plan was computed from.
//!
//! The job file and each id file it reads are hashed in the order they were read, each framed
//! by its name and length so that moving bytes from one file to another changes the hash. A
//! saved plan records the fingerprint; `apply --plan` refuses the plan when the files now hash
//! differently. Hashing what was *read* (not re-reading later) means an id file changing while
//! planning cannot slip through.

use sha2::{Digest, Sha256};

/// Builds a fingerprint from the inputs of one job.
#[derive(Default)]
pub struct Fingerprinter(Sha256);

impl Fingerprinter {
    pub fn new() -> Self {
        Fingerprinter(Sha256::new())
    }

    /// Adds one input: `name` is how the job refers to it (stable across checkouts).
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        self.0.update((name.len() as u64).to_le_bytes());
        self.0.update(name.as_bytes());
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// `sha256:` and 64 lowercase hex digits.
    pub fn finish(self) -> String {
        format!("sha256:{}", hex::encode(self.0.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::Fingerprinter;

    fn of(inputs: &[(&str, &[u8])]) -> String {
        let mut f = Fingerprinter::new();
        for (name, bytes) in inputs {
            f.add(name, bytes);
        }
        f.finish()
    }

    #[test]
    fn changes_with_any_input_and_only_then() {
        let base = of(&[("job.yaml", b"a: 1"), ("ids.txt", b"1\n2\n")]);
        assert_eq!(base, of(&[("job.yaml", b"a: 1"), ("ids.txt", b"1\n2\n")]));
        assert_ne!(base, of(&[("job.yaml", b"a: 2"), ("ids.txt", b"1\n2\n")]));
        assert_ne!(
            base,
            of(&[("job.yaml", b"a: 1"), ("ids.txt", b"1\n2\n3\n")])
        );
        assert_ne!(base, of(&[("job.yaml", b"a: 1"), ("other.txt", b"1\n2\n")]));
        // Bytes moved across the boundary between two files still change the hash.
        assert_ne!(
            base,
            of(&[("job.yaml", b"a: 1i"), ("ids.txt", b"ds.txt1\n2\n")])
        );
    }
}
