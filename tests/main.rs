mod cli;
mod snapshots;
mod evals;
mod validate;
