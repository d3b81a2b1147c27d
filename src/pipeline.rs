//! The pipeline: intent -> spec -> manifests -> findings, shared by every front end.
