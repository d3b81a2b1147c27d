//! Planned files into a working tree (`plan --write`, `drift --write`).
//!
//! A working tree is untrusted input: anyone who can commit to the repository
//! can commit a symbolic link (`clusters/staging/apps -> /elsewhere`) or a
//! file where a temporary one will go. So every path is resolved here without
//! following links: [`safe_target`] refuses a path with a symbolic link in
//! any directory on the way, an existing target that is a link, and anything
//! inside `.git`. All paths are checked before the first byte is written;
//! files are first written to fresh temporary siblings (created with
//! `O_CREAT | O_EXCL`, which never follows or reuses an existing entry),
//! then renamed over their targets (a rename replaces a directory entry, it
//! never writes through one). A failure before the renames removes every
//! temporary file and directory this call created.
//!
//! What is not covered: a process that swaps a directory for a link *while*
//! the write runs (each directory is checked again right before its rename,
//! which narrows the window but cannot close it without `openat`).

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{join_inside, Error};
use crate::manifest::File;

/// How many temporary names are tried per file before giving up.
const TEMP_TRIES: u32 = 16;

/// `root/rel`, checked: a plain relative path, no `.git` segment, no symbolic
/// link in the existing part of the path, and no link or directory where
/// the file goes. Nothing is created.
pub fn safe_target(root: &Path, rel: &str) -> Result<PathBuf, Error> {
    let target = join_inside(root, rel)?;
    let segments: Vec<&str> = rel.split('/').collect();
    if segments.iter().any(|s| s.eq_ignore_ascii_case(".git")) {
        return Err(Error::GitDir(rel.to_string()));
    }
    let mut dir = root.to_path_buf();
    for (i, segment) in segments.iter().enumerate() {
        dir.push(segment);
        let last = i + 1 == segments.len();
        let shown = segments[..=i].join("/");
        let meta = match std::fs::symlink_metadata(&dir) {
            Ok(meta) => meta,
            // The rest of the path does not exist yet: it will be created.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(source) => return Err(Error::Write { path: dir, source }),
        };
        if meta.file_type().is_symlink() {
            return Err(Error::Symlink {
                path: rel.to_string(),
                link: shown,
            });
        }
        let reason = match (last, meta.is_dir()) {
            (false, false) => "it is a file, not a directory",
            (true, true) => "it is a directory",
            _ => continue,
        };
        return Err(Error::InTheWay {
            path: rel.to_string(),
            what: shown,
            reason,
        });
    }
    Ok(target)
}

/// Writes planned files into a working tree, all or nothing.
///
/// Every path is checked ([`safe_target`]) before the first write; each file
/// is written to a new temporary sibling and renamed into place.
pub fn write_files(root: &Path, files: &[File]) -> Result<Vec<PathBuf>, Error> {
    if !root.is_dir() {
        return Err(Error::NotADirectory(root.to_path_buf()));
    }
    let targets: Vec<PathBuf> = files
        .iter()
        .map(|f| safe_target(root, &f.path))
        .collect::<Result<_, _>>()?;
    let mut staged = Staged::default();
    for (file, target) in files.iter().zip(&targets) {
        if let Err(e) = staged.stage(root, file, target) {
            staged.undo();
            return Err(e);
        }
    }
    let temps = std::mem::take(&mut staged.temps);
    for (i, (temp, (file, target))) in temps.iter().zip(files.iter().zip(&targets)).enumerate() {
        // Checked again: the directories were created or checked meanwhile.
        let renamed = safe_target(root, &file.path).and_then(|_| {
            std::fs::rename(temp, target).map_err(|source| Error::Write {
                path: target.clone(),
                source,
            })
        });
        if let Err(e) = renamed {
            for left in &temps[i..] {
                let _ = std::fs::remove_file(left);
            }
            return Err(e);
        }
    }
    Ok(targets)
}

/// Removes files from a working tree, after checking every path as
/// [`safe_target`] does (a link on the way is refused, not followed). A file
/// that is already gone is not an error. Returns the paths removed.
pub fn remove_files(root: &Path, paths: &[String]) -> Result<Vec<PathBuf>, Error> {
    let targets: Vec<PathBuf> = paths
        .iter()
        .map(|p| safe_target(root, p))
        .collect::<Result<_, _>>()?;
    let mut removed = Vec::new();
    for target in targets {
        match std::fs::remove_file(&target) {
            Ok(()) => removed.push(target),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Write { path: target, source }),
        }
    }
    Ok(removed)
}

/// What a [`write_files`] call has created so far, to undo on failure.
#[derive(Default)]
struct Staged {
    temps: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Staged {
    /// Creates the missing directories of `target` and writes `file` to a
    /// new temporary sibling.
    fn stage(&mut self, root: &Path, file: &File, target: &Path) -> Result<(), Error> {
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Write { path, source }
        };
        if let Some(parent) = target.parent() {
            self.create_dirs(root, parent).map_err(fail(parent))?;
        }
        // A directory created or found on the way must not be a link now either.
        safe_target(root, &file.path)?;
        let (temp, mut out) = new_temp(target).map_err(fail(target))?;
        self.temps.push(temp.clone());
        out.write_all(file.content.as_bytes())
            .and_then(|()| out.flush())
            .map_err(fail(&temp))
    }

    /// `create_dir` one level at a time below `root` (never `create_dir_all`,
    /// which would follow a link that appears on the way).
    fn create_dirs(&mut self, root: &Path, dir: &Path) -> std::io::Result<()> {
        let Ok(rel) = dir.strip_prefix(root) else {
            return Ok(());
        };
        let mut path = root.to_path_buf();
        for part in rel.components() {
            path.push(part);
            match std::fs::create_dir(&path) {
                Ok(()) => self.dirs.push(path.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !std::fs::symlink_metadata(&path)?.is_dir() {
                        return Err(std::io::Error::other(format!(
                            "{} exists and is not a directory",
                            path.display()
                        )));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Removes what was created, newest first (directories only when empty).
    fn undo(&mut self) {
        for temp in self.temps.drain(..) {
            let _ = std::fs::remove_file(temp);
        }
        for dir in self.dirs.drain(..).rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A new file next to `target`, `.<name>.gitintent-<pid>-<n>.tmp`, opened
/// with `create_new` (`O_EXCL`): an existing entry of that name, link or
/// not, is never opened; the next name is tried instead.
fn new_temp(target: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let pid = std::process::id();
    let mut last = None;
    for n in 0..TEMP_TRIES {
        let temp = target.with_file_name(format!(".{name}.gitintent-{pid}-{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary name was free")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn file(path: &str, content: &str) -> File {
        File {
            path: path.into(),
            content: content.into(),
        }
    }

    #[test]
    fn nothing_is_written_when_one_path_is_bad() {
        let dir = tempfile::tempdir().unwrap();
        let files = [file("ok.yaml", "a: 1\n"), file("../escape.yaml", "b: 1\n")];
        assert!(write_files(dir.path(), &files).is_err());
        assert!(!dir.path().join("ok.yaml").exists());
    }

    #[test]
    fn a_linked_directory_on_the_way_is_refused_before_any_write() {
        let repo = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("clusters/staging")).unwrap();
        symlink(elsewhere.path(), repo.path().join("clusters/staging/apps")).unwrap();
        let files = [
            file("clusters/dev/apps/a/x.yaml", "a: 1\n"),
            file("clusters/staging/apps/redis/statefulset.yaml", "b: 1\n"),
        ];
        let err = write_files(repo.path(), &files).unwrap_err();
        assert!(
            matches!(&err, Error::Symlink { link, .. } if link == "clusters/staging/apps"),
            "{err:?}"
        );
        assert!(std::fs::read_dir(elsewhere.path()).unwrap().next().is_none());
        assert!(
            !repo.path().join("clusters/dev").exists(),
            "written before the check"
        );
    }

    #[test]
    fn a_target_that_is_a_link_is_refused_and_its_file_untouched() {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "precious\n").unwrap();
        std::fs::create_dir_all(repo.path().join("apps/redis")).unwrap();
        symlink(outside.path(), repo.path().join("apps/redis/statefulset.yaml")).unwrap();
        let err = write_files(repo.path(), &[file("apps/redis/statefulset.yaml", "x: 1\n")]).unwrap_err();
        assert!(matches!(err, Error::Symlink { .. }), "{err:?}");
        assert_eq!(std::fs::read_to_string(outside.path()).unwrap(), "precious\n");
    }

    #[test]
    fn a_planted_temporary_file_or_link_is_never_opened() {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "precious\n").unwrap();
        let dir = repo.path().join("apps/redis");
        std::fs::create_dir_all(&dir).unwrap();
        // The old fixed name, and the first new one, both planted.
        symlink(outside.path(), dir.join("statefulset.gitintent.tmp")).unwrap();
        let first = format!(".statefulset.yaml.gitintent-{}-0.tmp", std::process::id());
        symlink(outside.path(), dir.join(first)).unwrap();
        write_files(repo.path(), &[file("apps/redis/statefulset.yaml", "x: 1\n")]).unwrap();
        assert_eq!(std::fs::read_to_string(outside.path()).unwrap(), "precious\n");
        assert_eq!(
            std::fs::read_to_string(dir.join("statefulset.yaml")).unwrap(),
            "x: 1\n"
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
    }

    #[test]
    fn git_internals_files_in_the_way_and_linked_deletions_are_refused() {
        let repo = tempfile::tempdir().unwrap();
        for path in [".git/hooks/x/pre-commit", "apps/.GIT/config"] {
            assert!(
                matches!(safe_target(repo.path(), path), Err(Error::GitDir(_))),
                "{path}"
            );
        }
        std::fs::write(repo.path().join("apps"), "a file\n").unwrap();
        assert!(matches!(
            safe_target(repo.path(), "apps/x.yaml"),
            Err(Error::InTheWay { .. })
        ));
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("x.yaml"), "keep\n").unwrap();
        symlink(elsewhere.path(), repo.path().join("linked")).unwrap();
        assert!(matches!(
            remove_files(repo.path(), &["linked/x.yaml".into()]),
            Err(Error::Symlink { .. })
        ));
        assert!(elsewhere.path().join("x.yaml").exists());
    }
}
