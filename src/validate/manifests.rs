//! Files parsed once, for schema validation and every policy engine.
//!
//! [`Manifests::parse`] splits every file into documents and parses them
//! (big files are cut at `---` lines into runs parsed on all cores), giving
//! the resources schema validation checks. The policy engines read the same
//! parse through [`Manifests::values`]: for a file whose every document the
//! fast parser read exactly (no null field dropped, no key repeated, no
//! `List`, nothing it declined), the documents as `serde_json::Value`s built
//! from the trees; for any other file `None`, and the caller reads its text
//! with serde-saphyr as before. So what the policies see (nulls, duplicate
//! keys, which files they skip and with which message) does not depend on
//! which parser ran; a differential test holds the two paths to the same
//! values. This module does not look at schemas or policies.

use serde_json::Value;

use super::report::Report;
use super::run::{self, Options};
use crate::manifest::File;
use crate::yaml::resources::{self, Parsed};

/// Above this many documents serde-saphyr's budget (see
/// `yaml::saphyr::options`) refuses a file, so the policies must read it
/// themselves to report that.
const MAX_DOCUMENTS: usize = crate::yaml::saphyr::MAX_DOCUMENTS;

/// Smallest run of documents parsed on a thread of its own.
const MIN_CHUNK: usize = 64 * 1024;

/// Files and the resources parsed from them.
pub struct Manifests<'f> {
    files: &'f [File],
    /// Every resource in input order, with the index of its file.
    resources: Vec<(usize, Parsed<'f>)>,
    /// Per file: every document exact (see [`resources::read`]) and the stream
    /// free of directives and end markers.
    exact: Vec<bool>,
}

impl std::fmt::Debug for Manifests<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manifests")
            .field("files", &self.files.len())
            .field("resources", &self.resources.len())
            .finish()
    }
}

impl<'f> Manifests<'f> {
    /// Parses every document of `files`, on all cores.
    pub fn parse(files: &'f [File]) -> Manifests<'f> {
        let threads = crate::par::threads();
        let chunks: Vec<(usize, &str)> = files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| {
                crate::yaml::parse::chunks(&f.content, threads, MIN_CHUNK)
                    .into_iter()
                    .map(move |c| (i, c))
            })
            .collect();
        let read = crate::par::map(&chunks, 1, |&(file, chunk)| {
            let mut exact = true;
            let mut resources = Vec::new();
            for doc in crate::yaml::parse::documents(chunk, &files[file].content) {
                let (parsed, is_exact) = resources::read(doc);
                exact &= is_exact;
                resources.extend(parsed.into_iter().map(|p| (file, p)));
            }
            (file, resources, exact)
        });
        let mut exact: Vec<bool> = files.iter().map(|f| plain_stream(&f.content)).collect();
        let mut counts = vec![0usize; files.len()];
        let mut resources = Vec::new();
        for (file, parsed, is_exact) in read {
            exact[file] &= is_exact;
            counts[file] += parsed.len();
            resources.extend(parsed);
        }
        for (exact, count) in exact.iter_mut().zip(counts) {
            *exact &= count <= MAX_DOCUMENTS;
        }
        Manifests {
            files,
            resources,
            exact,
        }
    }

    /// The files, as given.
    pub fn files(&self) -> &'f [File] {
        self.files
    }

    /// Validates every resource strictly; see [`super::validate`].
    pub fn validate(&self, options: &Options) -> Report {
        run::run(self, options)
    }

    /// Every resource in input order, with the path of its file.
    pub(crate) fn resources(&self) -> impl ExactSizeIterator<Item = (&'f str, &Parsed<'f>)> + '_ {
        let files = self.files;
        self.resources
            .iter()
            .map(move |(file, parsed)| (files[*file].path.as_str(), parsed))
    }

    /// Per file, its documents as serde-saphyr reads them (`null` documents
    /// left out), when the parse was exact; `None` for the files the caller
    /// must read itself. Built on all cores.
    pub(crate) fn values(&self) -> Vec<Option<Vec<Value>>> {
        let exact: Vec<&(usize, Parsed<'f>)> = self
            .resources
            .iter()
            .filter(|(file, _)| self.exact[*file])
            .collect();
        let values = crate::par::map(&exact, 64, |(_, parsed)| match parsed {
            Parsed::Object { tree, root, .. } => tree.to_value(*root),
            // An exact file has no broken documents.
            Parsed::Broken(_) => Value::Null,
        });
        let mut out: Vec<Option<Vec<Value>>> = self.exact.iter().map(|&e| e.then(Vec::new)).collect();
        for ((file, _), value) in exact.into_iter().zip(values) {
            if let Some(Some(docs)) = out.get_mut(*file) {
                docs.push(value);
            }
        }
        out
    }
}

/// No directive (`%YAML`) and no document end marker (`...`) in `text`:
/// streams that have them are left to serde-saphyr whole.
fn plain_stream(text: &str) -> bool {
    !(text.starts_with(['%', '.']) || text.contains("\n%") || text.contains("\n..."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str) -> File {
        File {
            path: "f.yaml".into(),
            content: content.into(),
        }
    }

    /// The policies' own reading of `text`, objects only.
    fn saphyr(text: &str) -> Vec<Value> {
        crate::yaml::manifest_values(text)
            .unwrap()
            .into_iter()
            .filter(|v| !v.is_null())
            .collect()
    }

    #[test]
    fn exact_files_give_what_serde_saphyr_reads() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {x: 'y'}}\ndata:\n  n: \"1\"\n  on: yes\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        args: [\"--a\", b]\n        resources: {limits: {cpu: 500m}}\n";
        let files = [file(text)];
        let parsed = Manifests::parse(&files);
        assert_eq!(parsed.resources().len(), 2);
        assert_eq!(parsed.values(), vec![Some(saphyr(text))]);
    }

    #[test]
    fn files_with_anything_the_trees_drop_are_left_to_the_caller() {
        let cases = [
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, creationTimestamp: null}\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {name: b}\n",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n",
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a\n",
            "%YAML 1.2\n---\napiVersion: v1\nkind: Pod\n",
            "apiVersion: v1\nkind: Pod\n...\n",
            "- a\n- b\n",
            "base: &b {name: a}\nmetadata: *b\n",
        ];
        for case in cases {
            let files = [file(case), file("kind: Pod\n")];
            let values = Manifests::parse(&files).values();
            assert_eq!(values[0], None, "{case:?}");
            assert_eq!(values[1], Some(saphyr("kind: Pod\n")), "{case:?}");
        }
    }

    #[test]
    fn big_files_are_parsed_in_runs_and_keep_their_order() {
        let doc = |i: usize| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{k: v{i}}}\n")
        };
        let text: String = (0..3000).map(doc).collect::<Vec<_>>().join("---\n");
        let files = [file(&text)];
        let parsed = Manifests::parse(&files);
        assert_eq!(parsed.resources().len(), 3000);
        assert_eq!(parsed.values(), vec![Some(saphyr(&text))]);
    }
}
