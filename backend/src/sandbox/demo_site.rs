//! The demo cluster's Django project, as a repository with releases `v1`, `v2` (v2 adds a
//! field and its migration) and `v3` (a migration that cannot be reversed): what the sandbox's
//! machines deploy with the built-in `django` kind.

use std::path::Path;

use knit_shared::shell::quote;

macro_rules! file {
    ($path:literal, $source:literal) => {
        ($path, include_str!(concat!("demo_site/", $source)))
    };
}

/// The files of release v1.
const V1: &[(&str, &str)] = &[
    file!("requirements.txt", "requirements.txt"),
    file!("manage.py", "manage.py"),
    file!("mysite/__init__.py", "mysite/__init__.py"),
    file!("mysite/settings.py", "mysite/settings.py"),
    file!("mysite/urls.py", "mysite/urls.py"),
    file!("mysite/wsgi.py", "mysite/wsgi.py"),
    file!("visits/__init__.py", "visits/__init__.py"),
    file!("visits/models.py", "visits/models.py"),
    file!("visits/views.py", "visits/views.py"),
    file!(
        "visits/static/visits/site.css",
        "visits/static/visits/site.css"
    ),
    file!(
        "visits/migrations/__init__.py",
        "visits/migrations/__init__.py"
    ),
    file!(
        "visits/migrations/0001_initial.py",
        "visits/migrations/0001_initial.py"
    ),
];

/// What release v2 changes: the visit records its release, by a migration.
const V2: &[(&str, &str)] = &[
    file!("visits/models.py", "v2/models.py"),
    file!(
        "visits/migrations/0002_visit_release.py",
        "v2/0002_visit_release.py"
    ),
];

/// What release v3 adds: a data migration with no way back.
const V3: &[(&str, &str)] = &[file!(
    "visits/migrations/0003_visit_backfill.py",
    "v3/0003_visit_backfill.py"
)];

/// The name of its repository in the sandbox's folder of repositories.
pub const REPOSITORY: &str = "mysite.git";

/// A shell script that makes the repository at `repository` (a bare one) unless it exists,
/// each release a commit tagged with its name.
pub fn script(repository: &Path) -> String {
    let repository = quote(&repository.display().to_string());
    let mut script = format!(
        "set -e\nrepo={repository}\n\
         if [ -d \"$repo\" ]; then echo \"kept $repo\"; exit 0; fi\n\
         work=$(mktemp -d)\ntrap 'rm -rf \"$work\"' EXIT\ncd \"$work\"\n\
         git init -q -b main\n\
         git config user.name 'knit sandbox'\ngit config user.email sandbox@knit.invalid\n"
    );
    for (release, files) in [("v1", V1), ("v2", V2), ("v3", V3)] {
        let written = files
            .iter()
            .copied()
            .chain([("RELEASE", release)])
            .map(|(path, text)| {
                let path = quote(path);
                format!(
                    "mkdir -p \"$(dirname {path})\"\nprintf '%s\\n' {} > {path}\n",
                    quote(text.trim_end_matches('\n'))
                )
            });
        script.extend(written);
        script.push_str(&format!(
            "git add -A\ngit commit -q -m {}\ngit tag {release}\n",
            quote(&format!("Demo site {release}"))
        ));
    }
    script.push_str(
        "mkdir -p \"$(dirname \"$repo\")\"\ngit clone -q --bare \"$work\" \"$repo\"\n\
         echo \"made $repo with releases v1, v2 and v3\"\n",
    );
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_makes_both_releases_and_keeps_an_existing_repository() {
        let dir = tempfile::tempdir().expect("a folder");
        let repo = dir.path().join("mysite.git");
        let make = || {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(script(&repo))
                .output()
                .expect("sh runs")
        };
        let made = make();
        assert!(made.status.success(), "{made:?}");
        let show = |what: &str| {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(&repo)
                .args(["show", what])
                .output()
                .expect("git runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert_eq!(show("v1:RELEASE"), "v1\n");
        assert_eq!(show("v2:RELEASE"), "v2\n");
        assert!(show("v3:visits/migrations/0003_visit_backfill.py").contains("RunPython"));
        assert!(show("v2:visits/models.py").contains("db_default"));
        assert!(!show("v1:visits/models.py").contains("release ="));
        assert_eq!(show("v1:mysite/urls.py"), V1[4].1);
        assert!(String::from_utf8_lossy(&make().stdout).starts_with("kept "));
    }
}
