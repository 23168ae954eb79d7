//! The state journal, end to end through its public interface: replay of hand-written
//! journals (`replay`), the writer and compaction (`journal`), crashes (`crash`: a real
//! journal cut at every byte, and real processes killed while writing) and the lock between
//! two real processes (`processes`).

mod state {
    pub mod crash;
    pub mod journal;
    pub mod processes;
    pub mod replay;
    pub mod support;
}
