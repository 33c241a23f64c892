//! The local file index through the `ptape` binary: `catalog ls` and
//! `catalog find` with no tape in the library, and the index rebuilt by
//! `catalog scan` after the database and the index were lost.

mod cli_util;
#[path = "../../tests/restore_util/mod.rs"]
mod restore_util;

use cli_util::Ptape;
use restore_util::{make_library, make_tree, take_offline, MIB};

#[test]
fn ls_and_find_work_without_a_tape_and_the_index_survives_a_rescan() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = make_library(&tmp.path().join("data/library"), 2, 512 * MIB);
    let src = make_tree(&tmp.path().join("src"), 3 * MIB as usize);
    let cli = Ptape::new(tmp.path());
    let v = cli.json(&["backup", "--id", "idx", src.to_str().unwrap()]);
    let snapshot = v["snapshot"].as_str().unwrap().to_string();

    // No tape in the library: browsing needs none.
    for barcode in ["BK0001L9", "BK0002L9"] {
        take_offline(&lib, barcode);
    }
    let top = cli.json(&["catalog", "ls", &snapshot]);
    assert_eq!(top.as_array().unwrap().len(), 1, "{top}");
    assert_eq!(top[0]["name"], "data");
    assert_eq!(top[0]["type"], "dir");
    let docs = cli.json(&["catalog", "ls", &snapshot, "data/docs"]);
    let names: Vec<&str> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.txt", "large-again.bin", "nested"]);
    let a = &docs[0];
    assert_eq!(a["type"], "file");
    assert_eq!(a["size"], 6);
    assert_eq!(a["mode"], "0644");
    assert_eq!(a["mtime"], "2001-09-09T01:46:40Z");
    for field in ["name", "type", "size", "mtime", "mode"] {
        assert!(a.get(field).is_some(), "{field} missing: {a}");
    }
    let data = cli.json(&["catalog", "ls", &snapshot, "data"]);
    let kinds: Vec<(&str, &str)> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("link-to-a", "symlink")), "{kinds:?}");
    assert!(kinds.contains(&("hard-a", "hardlink")), "{kinds:?}");
    let table = cli.ok(&["catalog", "ls", &snapshot, "data/docs"]);
    assert!(table.contains("a.txt") && table.contains("0644"), "{table}");
    let err = cli.fails(&["catalog", "ls", &snapshot, "data/no-such"]);
    assert!(err.contains("not a directory"), "{err}");

    let found = cli.json(&["catalog", "find", "*.txt"]);
    let paths: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"data/docs/a.txt"), "{paths:?}");
    assert!(paths.contains(&"data/docs/nested/b.txt"), "{paths:?}");
    assert!(paths.iter().all(|p| p.ends_with(".txt")), "{paths:?}");
    let found = cli.json(&[
        "catalog",
        "find",
        "--snapshot",
        &snapshot,
        "data/docs/*.txt",
    ]);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");

    // Lose the database and the index; bring the tapes back; rescan.
    let before_ls = cli.json(&["catalog", "ls", &snapshot, "data/docs"]);
    let before_find = cli.json(&["catalog", "find", "*"]);
    std::fs::remove_file(tmp.path().join("data/catalog.db")).unwrap();
    let _ = std::fs::remove_file(tmp.path().join("data/catalog.db-wal"));
    let _ = std::fs::remove_file(tmp.path().join("data/catalog.db-shm"));
    std::fs::remove_dir_all(tmp.path().join("data/file-index")).unwrap();
    lib.update(|state| {
        state.slots[0] = Some("BK0001L9".into());
        state.slots[1] = Some("BK0002L9".into());
        Ok(())
    })
    .unwrap();
    let scan = cli.json(&["catalog", "scan"]);
    assert_eq!(scan["file_indexes_rebuilt"], 1, "{scan}");
    assert_eq!(
        cli.json(&["catalog", "ls", &snapshot, "data/docs"]),
        before_ls
    );
    assert_eq!(cli.json(&["catalog", "find", "*"]), before_find);
}
