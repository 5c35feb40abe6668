//! Kinds of roles: the built-in library and those a file defines, with `extends` resolved.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde::Deserialize;
use toml::Spanned;

use super::format::{Action, Kind};

const BUILTIN: &str = include_str!("builtin.toml");

/// The kinds a definition can name.
#[derive(Debug)]
pub struct Library {
    kinds: BTreeMap<String, Spanned<Kind>>,
}

#[derive(Deserialize)]
struct Builtin {
    kinds: BTreeMap<String, Spanned<Kind>>,
}

impl Library {
    /// The kinds knit ships (nginx_proxy, app, django, memcache, redis, bounced_postgres),
    /// parsed once: every request that reads definitions uses them.
    pub fn builtin() -> &'static Self {
        static BUILTIN_LIBRARY: LazyLock<Library> = LazyLock::new(|| {
            let builtin: Builtin =
                toml::from_str(BUILTIN).expect("the built-in kinds are valid TOML");
            Library {
                kinds: builtin.kinds,
            }
        });
        &BUILTIN_LIBRARY
    }

    pub fn contains(&self, name: &str) -> bool {
        self.kinds.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kinds.keys().map(String::as_str)
    }

    /// Task names of `kind`, its own and those it inherits through `extends` in `local` (the
    /// file's kinds) or the library. `None` when the kind is unknown or extends in a circle.
    pub fn tasks(
        &self,
        local: &BTreeMap<String, Spanned<Kind>>,
        kind: &str,
    ) -> Option<BTreeSet<String>> {
        Some(self.resolve(local, kind)?.tasks.into_keys().collect())
    }

    /// `kind` with everything it inherits: settings of the farthest ancestor first, each kind
    /// overriding its parent's; a task is the nearest kind's that defines it.
    pub fn resolve(
        &self,
        local: &BTreeMap<String, Spanned<Kind>>,
        kind: &str,
    ) -> Option<ResolvedKind> {
        let mut chain = Vec::new();
        let mut next = Some(kind);
        while let Some(name) = next {
            if chain.iter().any(|(seen, _)| *seen == name) {
                return None;
            }
            let found = local.get(name).or_else(|| self.kinds.get(name))?.get_ref();
            chain.push((name, found));
            next = found
                .extends
                .as_ref()
                .map(|parent| parent.get_ref().as_str());
        }
        let mut resolved = ResolvedKind {
            lineage: chain.iter().map(|(name, _)| (*name).to_owned()).collect(),
            ..ResolvedKind::default()
        };
        for (_, kind) in chain.into_iter().rev() {
            resolved.required.extend(kind.required.iter().cloned());
            resolved.settings.extend(kind.settings.clone());
            resolved.tasks.extend(kind.tasks.clone());
        }
        Some(resolved)
    }
}

/// A kind with its inheritance applied.
#[derive(Debug, Default)]
pub struct ResolvedKind {
    /// The kind and those it extends, nearest first: `["mysite", "django", "app", "base"]`.
    pub lineage: Vec<String>,
    /// Settings a role must give (its own or its kind's), from every kind of the chain.
    pub required: Vec<String>,
    pub settings: toml::Table,
    pub tasks: BTreeMap<String, Vec<Spanned<Action>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_inherits_the_app_tasks() {
        let library = Library::builtin();
        let tasks = library
            .tasks(&BTreeMap::new(), "django")
            .expect("known kind");
        for task in ["install", "update", "migrate", "static", "restart"] {
            assert!(tasks.contains(task), "django lacks {task}");
        }
        assert!(library.tasks(&BTreeMap::new(), "nope").is_none());
    }
}
