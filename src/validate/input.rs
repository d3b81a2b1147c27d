//! Reading the files to validate: files, directories, and `-` for stdin.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::Error;
use crate::manifest::File;

/// Extensions picked up when walking a directory.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Reads every path: a file is read whatever its name; a directory is walked
/// recursively for `*.yaml`, `*.yml` and `*.json` in name order, skipping
/// hidden entries and not following symlinked directories; `-` is standard
/// input, named `stdin`.
pub fn read(paths: &[PathBuf]) -> Result<Vec<File>, Error> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut content = String::new();
            io::stdin()
                .read_to_string(&mut content)
                .map_err(|source| read_error(path, source))?;
            files.push(File {
                path: "stdin".into(),
                content,
            });
        } else if fs::metadata(path)
            .map_err(|source| read_error(path, source))?
            .is_dir()
        {
            walk(path, &mut files)?;
        } else {
            files.push(read_file(path)?);
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<File>) -> Result<(), Error> {
    let mut entries = fs::read_dir(dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|source| read_error(dir, source))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(|source| read_error(&path, source))?;
        if file_type.is_dir() {
            walk(&path, files)?;
        } else if has_manifest_extension(&path) && fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            files.push(read_file(&path)?);
        }
    }
    Ok(())
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

fn read_file(path: &Path) -> Result<File, Error> {
    let content = fs::read_to_string(path).map_err(|source| read_error(path, source))?;
    Ok(File {
        path: path.display().to_string(),
        content,
    })
}

fn read_error(path: &Path, source: io::Error) -> Error {
    Error::Read {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_walked_for_manifests_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/c")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        for name in ["b/c/z.yml", "a.yaml", "b/x.json", "notes.txt", ".git/config.yaml"] {
            fs::write(root.join(name), "x: 1\n").unwrap();
        }
        let files = read(&[root.to_owned()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                Path::new(&f.path)
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        assert_eq!(names, ["a.yaml", "b/c/z.yml", "b/x.json"]);
    }

    #[test]
    fn a_missing_path_is_a_read_error() {
        let err = read(&[PathBuf::from("/definitely/not/here.yaml")]).unwrap_err();
        assert!(matches!(err, Error::Read { .. }));
        assert!(err.to_string().contains("/definitely/not/here.yaml"));
    }
}
