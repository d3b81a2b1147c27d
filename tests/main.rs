mod cli;
mod snapshots;
