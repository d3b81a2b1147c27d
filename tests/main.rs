mod cli;
mod evals;
mod openai;
mod policy;
mod snapshots;
mod util;
mod validate;
