//! The base image every sandbox machine boots from: built once into the cache folder with
//! Debian's `debootstrap` (about two minutes, 250 MB), then shared read-only through overlays.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::{MachineError, io_error, run};

const BUILD: &str = include_str!("image.sh");
/// Named by what it holds; a change to `image.sh` takes a new name, so old caches rebuild.
const NAME: &str = "debian-12-v1";

/// A built base image.
#[derive(Debug, Clone)]
pub struct Image {
    pub root: PathBuf,
}

impl Image {
    /// The image under `cache`, built first if it is not there. Two processes that both find
    /// it missing build it once: the second waits on the first's lock.
    pub async fn ensure(cache: &Path) -> Result<Self, MachineError> {
        let folder = cache.join("machines");
        let root = folder.join(NAME);
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|source| io_error(&folder, source))?;
        let lock_path = folder.join(format!("{NAME}.lock"));
        let lock = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::create(&lock_path).map_err(|e| io_error(&lock_path, e))?;
            file.lock().map_err(|e| io_error(&lock_path, e))?;
            Ok::<_, MachineError>(file)
        })
        .await
        .expect("the lock's task runs")?;
        if !root.join("etc/os-release").exists() {
            tracing::info!(root = %root.display(), "building the sandbox machines' Debian image (about two minutes, once)");
            let mut build = Command::new("sh");
            build
                .arg("-c")
                .arg(BUILD)
                .arg("sh")
                .arg(&root)
                .arg(mirror());
            run("building the machines' Debian image", &mut build).await?;
        }
        drop(lock);
        Ok(Self { root })
    }

    /// The Debian mirror the image's apt was given when it was built.
    pub fn mirror(&self) -> Result<String, MachineError> {
        let path = self.root.join("etc/apt/sources.list");
        let sources = std::fs::read_to_string(&path).map_err(|source| io_error(&path, source))?;
        mirror_in(&sources).ok_or_else(|| MachineError::Command {
            what: "reading the image's apt sources".to_owned(),
            detail: format!("{} names no Debian mirror", path.display()),
        })
    }
}

/// The Debian mirror this machine's own apt uses (`KNIT_DEBIAN_MIRROR` overrides it).
fn mirror() -> String {
    if let Ok(mirror) = std::env::var("KNIT_DEBIAN_MIRROR") {
        return mirror;
    }
    let sources = [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list",
    ]
    .iter()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .collect::<Vec<_>>()
    .join("\n");
    mirror_in(&sources).unwrap_or_else(|| "http://deb.debian.org/debian".to_owned())
}

/// The first mirror of Debian's main archive in apt's sources, in either format.
fn mirror_in(sources: &str) -> Option<String> {
    sources
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.split_whitespace())
        .find(|word| word.starts_with("http") && !word.contains("security"))
        .map(|url| url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_is_apts_main_archive_in_either_format() {
        let deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n";
        assert_eq!(
            mirror_in(deb822).as_deref(),
            Some("http://mirror.example/debian")
        );
        let list = "# deb http://old.example/debian bookworm main\n\
                    deb http://security.debian.org/debian-security bookworm-security main\n\
                    deb https://other.example/debian/ bookworm main\n";
        assert_eq!(
            mirror_in(list).as_deref(),
            Some("https://other.example/debian")
        );
        assert_eq!(mirror_in("Types: deb\n"), None);
    }
}
