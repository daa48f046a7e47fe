//! Reading inputs and writing outputs: every read stops at a limit on the
//! bytes actually read (a special file such as `/dev/zero` reports no
//! length), a named pipe without a writer reads as empty instead of
//! waiting, every output is written beside its place and renamed into it
//! only when it is whole, and no output may overwrite an input.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// What a file holds, for messages: "a network file", "a batch file".
pub(super) type Kind = &'static str;

/// Reads `path` (standard input for `-`), refusing more than `limit`
/// bytes; `kind` names the file in messages.
pub(super) fn read_bounded(path: &str, limit: usize, kind: Kind) -> Result<Vec<u8>, Diagnostic> {
    let cannot = |e: std::io::Error| {
        Diagnostic::unlocated(format!("cannot read {kind} {}: {e}", shown(path)))
    };
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    } else {
        open_for_reading(Path::new(path))
            .map_err(cannot)?
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    }
    if bytes.len() > limit {
        return Err(Diagnostic::unlocated(format!(
            "{kind} {} is larger than {}, the most chainrule reads",
            shown(path),
            size_words(limit)
        )));
    }
    Ok(bytes)
}

/// Reads `path` as UTF-8 text, as [`read_bounded`] does.
pub(super) fn read_text(path: &str, limit: usize, kind: Kind) -> Result<String, Diagnostic> {
    let bytes = read_bounded(path, limit, kind)?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let text = &error.as_bytes()[..valid];
        let line = text.iter().filter(|b| **b == b'\n').count() + 1;
        let column = text.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        Diagnostic::unlocated(format!(
            "{}:{line}:{column}: found a byte that is not UTF-8 text in {kind}, expected UTF-8 text",
            shown(path)
        ))
    })
}

/// Opens a file to read. A named pipe is opened without waiting for a
/// writer, then read as usual: without one it reads as empty.
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    open_without_waiting(std::fs::OpenOptions::new().read(true), path)
}

/// Opens `path` with `options` without waiting for the other end of a
/// named pipe (a pipe without a reader is refused at once when written),
/// then makes the file wait as usual.
fn open_without_waiting(options: &mut std::fs::OpenOptions, path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let file = options.custom_flags(libc::O_NONBLOCK).open(path)?;
        // SAFETY: `fcntl` on a descriptor this function owns, with flags it
        // read from the same descriptor, only clears O_NONBLOCK.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            if flags < 0
                || libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

/// A size for a message: "16 MiB", "200 KiB".
fn size_words(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// A path as a message shows it: quoted, with standard input named, and
/// control characters escaped so that a terminal shows them as text.
pub(super) fn shown(path: &str) -> String {
    if path == "-" {
        "standard input".to_string()
    } else {
        format!("`{}`", crate::diagnostic::escape_controls(path))
    }
}

/// Writes `bytes` to `path` whole or not at all, as [`PartialFile`] does.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Diagnostic> {
    let mut file = PartialFile::create(path)?;
    file.write(bytes)?;
    file.finish()
}

/// An output being written: into a file beside its place, renamed into it
/// only once complete, so that a full disk or an error leaves no truncated
/// output (and leaves an older file as it was). Dropped unfinished, it is
/// removed. A target that is a link is written through it, and one that is
/// not a regular file (a pipe, `/dev/null`) is written to directly.
pub(super) struct PartialFile {
    target: PathBuf,
    /// The file written beside the target, when there is one.
    temporary: Option<PathBuf>,
    file: Option<std::io::BufWriter<File>>,
}

impl PartialFile {
    /// Starts writing `target`.
    pub(super) fn create(target: &Path) -> Result<PartialFile, Diagnostic> {
        let shown_target = shown(&target.to_string_lossy());
        let cannot =
            |e: std::io::Error| Diagnostic::unlocated(format!("cannot write {shown_target}: {e}"));
        if let Ok(metadata) = std::fs::metadata(target)
            && !metadata.is_file()
        {
            let file = open_without_waiting(std::fs::OpenOptions::new().write(true), target)
                .map_err(cannot)?;
            return Ok(PartialFile {
                target: target.to_path_buf(),
                temporary: None,
                file: Some(std::io::BufWriter::new(file)),
            });
        }
        // Through a link, the file it names is the one replaced.
        let real = followed(target);
        let name = real.file_name().ok_or_else(|| {
            Diagnostic::unlocated(format!("cannot write {shown_target}: it names no file"))
        })?;
        let directory = match real.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut temporary_name = OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(format!(".{}.partial", std::process::id()));
        let temporary = directory.join(temporary_name);
        // A new file, never one (or a link) already there.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .map_err(cannot)?;
        Ok(PartialFile {
            target: real,
            temporary: Some(temporary),
            file: Some(std::io::BufWriter::new(file)),
        })
    }

    /// Adds `bytes`.
    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<(), Diagnostic> {
        let written = self
            .file
            .as_mut()
            .expect("open until finished")
            .write_all(bytes);
        written.map_err(|e| self.cannot(e))
    }

    /// Puts the whole file in its place.
    pub(super) fn finish(mut self) -> Result<(), Diagnostic> {
        let file = self.file.take().expect("open until finished");
        let flushed = file.into_inner().map_err(|e| e.into_error());
        let done = match &self.temporary {
            Some(temporary) => flushed
                .and_then(|file| file.sync_all())
                .and_then(|()| std::fs::rename(temporary, &self.target)),
            None => flushed.map(drop),
        };
        if done.is_ok() {
            self.temporary = None;
        }
        done.map_err(|e| self.cannot(e))
    }

    fn cannot(&self, error: std::io::Error) -> Diagnostic {
        Diagnostic::unlocated(format!(
            "cannot write {}: {error}",
            shown(&self.target.to_string_lossy())
        ))
    }
}

/// `path` with its links followed, even to a file not there yet.
fn followed(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    // As the system does, a chain of links is followed a bounded number of times.
    for _ in 0..40 {
        let Ok(link) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(parent) => parent.join(link),
            None => link,
        };
    }
    path
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        self.file = None;
        if let Some(temporary) = &self.temporary {
            let _ = std::fs::remove_file(temporary);
        }
    }
}

/// Refuses to write `output` when it is one of `inputs` (compared as
/// canonical paths, so `./x.nn` and `x.nn` are one file).
pub(super) fn refuse_overwriting(output: &Path, inputs: &[&str]) -> Result<(), Diagnostic> {
    let Some(target) = canonical_target(output) else {
        return Ok(());
    };
    // Writing to a device or a pipe replaces no file.
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        return Ok(());
    }
    for input in inputs {
        // Standard input read from a file is that file.
        let read_from = if *input == "-" { "/dev/stdin" } else { input };
        if std::fs::canonicalize(read_from).is_ok_and(|source| source == target) {
            return Err(Diagnostic::unlocated(format!(
                "the output {} is the input {}; chainrule never writes over its input",
                shown(&output.to_string_lossy()),
                shown(input)
            ))
            .with_help("choose another output name"));
        }
    }
    Ok(())
}

/// Where `output` would be written, as a canonical path, whether or not
/// the file exists yet.
fn canonical_target(output: &Path) -> Option<PathBuf> {
    if let Ok(existing) = std::fs::canonicalize(output) {
        return Some(existing);
    }
    let name = output.file_name()?;
    let parent = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}
