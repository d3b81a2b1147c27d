mod cli;
mod evals;
mod openai;
mod policy;
mod serve;
mod snapshots;
mod util;
mod validate;
