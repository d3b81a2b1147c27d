//! Prompts: `prompts/*.j2` rendered with minijinja.
