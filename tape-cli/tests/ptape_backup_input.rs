//! Backup input problems through the `ptape` binary on its embedded
//! library: sources checked before any tape is touched, warnings and exit
//! code 3, `--fail-on-warning`, symbolic-link sources, `--one-file-system`,
//! excludes, and `restore --overwrite` never leaving the target through a
//! planted symbolic link.

mod cli_util;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use cli_util::Ptape;

/// A data directory, a source tree and a restore directory.
struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        let src = tmp.path().join("src/data");
        std::fs::create_dir_all(src.join("docs")).unwrap();
        std::fs::write(src.join("docs/a.txt"), b"alpha\n").unwrap();
        std::fs::write(src.join("b.txt"), b"beta\n").unwrap();
        Env { tmp, cli }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn src(&self) -> String {
        self.path("src/data").display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cli.ptape().args(args).output().unwrap()
    }

    fn snapshots(&self) -> Vec<String> {
        let v = self.cli.json(&["snapshots"]);
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// Restores the newest snapshot to `rel`.
    fn restore_latest(&self, rel: &str, extra: &[&str]) -> PathBuf {
        let snap = self.snapshots().into_iter().next().unwrap();
        let out = self.path(rel);
        let mut args = vec!["restore", snap.as_str(), out.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.cli.ok(&args);
        out
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_missing_source_fails_before_any_tape_is_touched() {
    let env = Env::new();
    let err = env.cli.fails(&["backup", "/nonexistent/ptape-src"]);
    assert!(err.contains("/nonexistent/ptape-src"), "{err}");
    // No cartridge was loaded, let alone labelled into the pool.
    let media = env.cli.json(&["media", "list"]);
    assert_eq!(media.as_array().unwrap().len(), 0, "{media}");
    assert!(env.snapshots().is_empty());
    // One good and one missing source: the same, nothing is written.
    let err = env.cli.fails(&["backup", &env.src(), "/nonexistent/other"]);
    assert!(err.contains("/nonexistent/other"), "{err}");
    assert_eq!(
        env.cli.json(&["media", "list"]).as_array().unwrap().len(),
        0
    );
}

/// `ptape` run as user nobody (root reads every file).
fn run_as_nobody(env: &Env, args: &[&str]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("ptape");
    std::process::Command::new(bin)
        .args(args)
        .env("PTAPE_CONFIG_DIR", env.path("config"))
        .env("PTAPE_DATA_DIR", env.path("data"))
        .env("HOME", env.path(""))
        .env_remove("TAPE")
        .env_remove("CHANGER")
        .env_remove("RUST_LOG")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap()
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if std::fs::symlink_metadata(path).unwrap().is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            chown_tree(&e.unwrap().path(), uid);
        }
    }
}

#[test]
fn an_unreadable_file_is_a_warning_exit_3_or_with_fail_on_warning_an_error() {
    let env = Env::new();
    // The files we create are ours: root's when we are root.
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(env.path("src")).unwrap());
    if owner != 0 {
        eprintln!("skipped: needs root to run ptape as another user");
        return;
    }
    let secret = env.path("src/data/docs/secret");
    std::fs::write(&secret, b"top secret\n").unwrap();
    chown_tree(env.tmp.path(), 65534);
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();

    let out = run_as_nobody(&env, &["backup", "--id", "w", &env.src()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("data/docs/secret: cannot be read"), "{err}");
    assert!(err.contains("backup finished with 1 warning"), "{err}");
    // The job itself succeeded: its snapshot is listed.
    let listed = run_as_nobody(&env, &["snapshots", "--output-format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");

    let out = run_as_nobody(
        &env,
        &["backup", "--id", "strict", "--fail-on-warning", &env.src()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--fail-on-warning"), "{err}");
    let listed = run_as_nobody(&env, &["snapshots", "--output-format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        1,
        "no snapshot of the failed job: {v}"
    );
}

#[test]
fn a_symlink_source_is_followed_and_said_so() {
    let env = Env::new();
    let link = env.path("src/link-to-data");
    std::os::unix::fs::symlink("data", &link).unwrap();
    let out = env.run(&["backup", "--id", "l", link.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("is a symbolic link"), "{err}");
    let restored = env.restore_latest("out", &[]);
    let root = restored.join("link-to-data");
    assert!(std::fs::symlink_metadata(&root).unwrap().is_dir());
    assert_eq!(std::fs::read(root.join("docs/a.txt")).unwrap(), b"alpha\n");
}

/// A tmpfs mounted for the test; unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "ptape-test", at.to_str().unwrap()])
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn one_file_system_keeps_mount_points_empty() {
    let env = Env::new();
    let Some(_mount) = Mount::tmpfs(&env.path("src/data/mnt")) else {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    };
    std::fs::write(env.path("src/data/mnt/other-fs.txt"), b"elsewhere").unwrap();
    env.cli
        .ok(&["backup", "--id", "ofs", "--one-file-system", &env.src()]);
    let out = env.restore_latest("one", &[]);
    assert!(out.join("data/mnt").is_dir(), "the mount point is kept");
    assert!(!out.join("data/mnt/other-fs.txt").exists());
    assert!(out.join("data/docs/a.txt").exists());

    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.cli.ok(&["backup", "--id", "all", &env.src()]);
    let out = env.restore_latest("all", &[]);
    assert_eq!(
        std::fs::read(out.join("data/mnt/other-fs.txt")).unwrap(),
        b"elsewhere"
    );
}

#[test]
fn excludes_from_the_command_line_a_file_and_ptapeignore() {
    let env = Env::new();
    let src = env.path("src/data");
    std::fs::create_dir_all(src.join("build/deep")).unwrap();
    std::fs::write(src.join("build/deep/x.o"), b"obj").unwrap();
    std::fs::write(src.join("docs/notes.tmp"), b"tmp").unwrap();
    std::fs::write(src.join("docs/keep.log"), b"keep").unwrap();
    std::fs::write(src.join("docs/drop.log"), b"drop").unwrap();
    std::fs::write(src.join("docs/.ptapeignore"), b"*.log\n!keep.log\n").unwrap();
    let patterns = env.path("patterns");
    std::fs::write(&patterns, b"# comment\n*.tmp\n").unwrap();
    env.cli.ok(&[
        "backup",
        "--id",
        "ex",
        "--exclude",
        "/data/build",
        "--exclude-from",
        patterns.to_str().unwrap(),
        &env.src(),
    ]);
    let out = env.restore_latest("out", &[]).join("data");
    assert!(!out.join("build").exists());
    assert!(!out.join("docs/notes.tmp").exists());
    assert!(!out.join("docs/drop.log").exists());
    assert!(out.join("docs/keep.log").exists());
    assert!(out.join("docs/.ptapeignore").exists());
    assert!(out.join("docs/a.txt").exists());
    let err = env.cli.fails(&["backup", "--exclude", "{a", &env.src()]);
    assert!(err.contains("{a"), "{err}");
}

#[test]
fn restore_overwrite_never_follows_a_symlink_out_of_the_target() {
    let env = Env::new();
    env.cli.ok(&["backup", "--id", "o", &env.src()]);
    let out = env.restore_latest("out", &[]);
    // Someone plants links in the restored tree pointing outside of it.
    let victim = env.path("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::remove_dir_all(out.join("data/docs")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("data/docs")).unwrap();
    let victim_file = env.path("victim-file");
    std::fs::write(&victim_file, b"do not touch").unwrap();
    std::fs::remove_file(out.join("data/b.txt")).unwrap();
    std::os::unix::fs::symlink(&victim_file, out.join("data/b.txt")).unwrap();

    env.restore_latest("out", &["--overwrite"]);
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "wrote outside the target"
    );
    assert_eq!(std::fs::read(&victim_file).unwrap(), b"do not touch");
    let docs = std::fs::symlink_metadata(out.join("data/docs")).unwrap();
    assert!(
        docs.is_dir(),
        "the link was replaced by the snapshot's directory"
    );
    assert_eq!(
        std::fs::read(out.join("data/docs/a.txt")).unwrap(),
        b"alpha\n"
    );
    let b = std::fs::symlink_metadata(out.join("data/b.txt")).unwrap();
    assert!(b.is_file());
    assert_eq!(std::fs::read(out.join("data/b.txt")).unwrap(), b"beta\n");
}
