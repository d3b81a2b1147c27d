mod cli;
mod evals;
mod openai;
mod policy;
mod repo;
mod snapshots;
mod util;
mod validate;
