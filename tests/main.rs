mod cli;
mod snapshots;
mod evals;
mod validate;
mod util;
mod openai;
mod policy;
