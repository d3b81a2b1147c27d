mod cli;
mod snapshots;
mod evals;
