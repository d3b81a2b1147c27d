mod cli;
mod evals;
mod openai;
mod policy;
mod propose;
mod snapshots;
mod util;
mod validate;
