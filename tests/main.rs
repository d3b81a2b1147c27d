mod cli;
mod evals;
mod openai;
mod policy;
mod slack;
mod snapshots;
mod util;
mod validate;
