//! `ptape key ...`: tape encryption keys (create, list, show,
//! change-passphrase, remove, paperkey, import, restore).
//!
//! Passphrases come from `--passphrase-file F` (first line), else
//! `$PTAPE_PASSPHRASE`, else the terminal (asked twice for a new one).
//! A new passphrase in `change-passphrase` comes from
//! `--new-passphrase-file F`, else `$PTAPE_NEW_PASSPHRASE`, else the terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use ptape::devices::TapeDevices;
use ptape::keys::paperkey::{self, PaperFormat};
use ptape::keys::{
    Fingerprint, Imported, Kdf, KeyError, KeyInfo, KeyStore, Passphrase, PASSPHRASE_ENV,
};
use tape_cli::output::{ListTable, OutputFormat};
use zeroize::Zeroizing;

/// Environment variable with the new passphrase of `change-passphrase`.
const NEW_PASSPHRASE_ENV: &str = "PTAPE_NEW_PASSPHRASE";

/// Passphrase key derivation.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KdfArg {
    /// scrypt (default).
    Scrypt,
    /// PBKDF2-HMAC-SHA256.
    Pbkdf2,
    /// Store the key unwrapped (for automation; anyone who can read the key store can read the tapes).
    None,
}

impl From<KdfArg> for Kdf {
    fn from(k: KdfArg) -> Kdf {
        match k {
            KdfArg::Scrypt => Kdf::Scrypt,
            KdfArg::Pbkdf2 => Kdf::Pbkdf2,
            KdfArg::None => Kdf::None,
        }
    }
}

/// Where the passphrase comes from.
#[derive(Debug, Clone, Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from the first line of this file (else
    /// $PTAPE_PASSPHRASE, else the terminal).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create a random 256-bit key protected by a passphrase; prints its fingerprint.
    Create {
        /// Passphrase hint (1-64 characters), shown when a passphrase is wrong.
        #[arg(long)]
        hint: String,
        /// Passphrase key derivation.
        #[arg(long, value_enum, default_value_t = KdfArg::Scrypt)]
        kdf: KdfArg,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// List the keys of the key store.
    List,
    /// Show one key (full fingerprint or its short form).
    Show { fingerprint: String },
    /// Change a key's passphrase (or KDF).
    ChangePassphrase {
        fingerprint: String,
        /// Root only: reset the passphrase without the old one, from the
        /// key's unwrapped copy.
        #[arg(long)]
        force: bool,
        /// Passphrase key derivation of the new passphrase.
        #[arg(long, value_enum, default_value_t = KdfArg::Scrypt)]
        kdf: KdfArg,
        /// The old passphrase.
        #[command(flatten)]
        passphrase: PassphraseArgs,
        /// Read the new passphrase from this file (else
        /// $PTAPE_NEW_PASSPHRASE, else the terminal).
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Remove a key from the key store.
    Remove {
        fingerprint: String,
        /// Remove it even while a pool uses it.
        #[arg(long)]
        force: bool,
    },
    /// Print a paper key: the wrapped key between BEGIN/END lines and its QR code.
    ///
    /// `--output-format text` (default) prints an ASCII QR code, `--output-format html`
    /// a page with an SVG QR code.
    Paperkey { fingerprint: String },
    /// Import a key from a paper key or a key file (asks its passphrase).
    Import {
        /// A paper key (text or HTML output of `ptape key paperkey`, or the
        /// text between its BEGIN/END lines).
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "file",
            required_unless_present = "file"
        )]
        paper_key: Option<PathBuf>,
        /// A key file: a JSON key config.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Recover the key of a tape from its media set label: the tape in the
    /// drive, or cartridge LABEL, loaded through the drive's changer (and
    /// put back into its slot afterwards).
    Restore {
        /// Configured drive (default: the default drive, or with --changer
        /// the first drive of that changer).
        #[arg(long)]
        drive: Option<String>,
        /// Configured changer whose drive loads LABEL.
        #[arg(long, requires = "label", conflicts_with = "drive")]
        changer: Option<String>,
        /// Barcode of the cartridge to load (default: the tape in the drive).
        label: Option<String>,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

/// Output formats of `ptape`: those of every binary, plus `html` for
/// `ptape key paperkey`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum PtapeFormat {
    /// Human-readable text and tables.
    #[default]
    Text,
    /// One line of JSON.
    Json,
    /// Indented JSON.
    JsonPretty,
    /// An HTML page (ptape key paperkey only).
    Html,
}

/// The `--output-format` option of `ptape`.
#[derive(Debug, Clone, Args)]
pub struct PtapeOutputArgs {
    /// Output format of status-like commands (html: ptape key paperkey only).
    #[arg(long, value_enum, default_value_t = PtapeFormat::Text, global = true)]
    pub output_format: PtapeFormat,
}

impl PtapeOutputArgs {
    /// The format of every command but `key paperkey`.
    pub fn format(&self) -> Result<OutputFormat> {
        Ok(match self.output_format {
            PtapeFormat::Text => OutputFormat::Text,
            PtapeFormat::Json => OutputFormat::Json,
            PtapeFormat::JsonPretty => OutputFormat::JsonPretty,
            PtapeFormat::Html => {
                bail!("--output-format html is only for ptape key paperkey; use text, json or json-pretty")
            }
        })
    }

    /// The format of `key paperkey`.
    fn paper_format(&self) -> Result<PaperFormat> {
        match self.output_format {
            PtapeFormat::Text => Ok(PaperFormat::Text),
            PtapeFormat::Html => Ok(PaperFormat::Html),
            _ => bail!("ptape key paperkey prints --output-format text or html"),
        }
    }
}

/// Runs `ptape key ...`.
pub fn key(cmd: KeyCmd, output: &PtapeOutputArgs) -> Result<()> {
    let store = KeyStore::open_default()?;
    let out = match cmd {
        KeyCmd::Paperkey { .. } => OutputFormat::Text,
        _ => output.format()?,
    };
    match cmd {
        KeyCmd::Create {
            hint,
            kdf,
            passphrase,
        } => {
            let kdf = Kdf::from(kdf);
            let info = if kdf == Kdf::None {
                eprintln!(
                    "warning: the key is stored unwrapped in {}: whoever can read that file can \
                     read the tapes; tapes can only be written with it once it has a passphrase \
                     (ptape key change-passphrase)",
                    store.path().display()
                );
                store.create(&hint, kdf, None)?
            } else {
                let pass = new_passphrase(
                    passphrase.passphrase_file.as_deref(),
                    PASSPHRASE_ENV,
                    "passphrase for the new key",
                )?;
                store.create(&hint, kdf, Some(&pass))?
            };
            print_created(&info, out)
        }
        KeyCmd::List => {
            let keys = store.list()?;
            out.print(&keys, |keys| {
                let mut t = ListTable::new(&["fingerprint", "hint", "kdf", "created", "modified"]);
                for k in keys {
                    t.row([
                        k.fingerprint.short(),
                        k.hint.clone().unwrap_or_default(),
                        k.kdf.to_string(),
                        k.created.clone(),
                        k.modified.clone(),
                    ]);
                }
                t.render()
            })
        }
        KeyCmd::Show { fingerprint } => {
            let info = store.find(&fingerprint)?;
            print_info(&info, out)
        }
        KeyCmd::ChangePassphrase {
            fingerprint,
            force,
            kdf,
            passphrase,
            new_passphrase_file,
        } => {
            let info = store.find(&fingerprint)?;
            let fp = info.fingerprint;
            // The old passphrase is needed unless the key has no wrapped
            // copy, or --force resets it from the unwrapped copy.
            let old = if info.kdf == "none" || force {
                None
            } else {
                Some(old_passphrase(
                    passphrase.passphrase_file.as_deref(),
                    &fp,
                    info.hint.as_deref(),
                )?)
            };
            let kdf = Kdf::from(kdf);
            let new = if kdf == Kdf::None {
                None
            } else {
                Some(new_passphrase(
                    new_passphrase_file.as_deref(),
                    NEW_PASSPHRASE_ENV,
                    "new passphrase",
                )?)
            };
            let info = store.change_passphrase(&fp, old.as_ref(), kdf, new.as_ref(), force)?;
            print_info(&info, out)
        }
        KeyCmd::Remove { fingerprint, force } => {
            let info = store.find(&fingerprint)?;
            let catalog = ptape::catalog::Catalog::open_default()?;
            let removed = ptape::keys::remove_key(&store, &catalog, &info.fingerprint, force)?;
            println!("removed key {}", removed.fingerprint);
            Ok(())
        }
        KeyCmd::Paperkey { fingerprint } => {
            let info = store.find(&fingerprint)?;
            let config = store.key_config(&info.fingerprint)?;
            print!("{}", paperkey::render(&config, output.paper_format()?)?);
            Ok(())
        }
        KeyCmd::Import {
            paper_key,
            file,
            passphrase,
        } => {
            let path = paper_key
                .or(file)
                .context("give --paper-key FILE or --file FILE")?;
            let text = Zeroizing::new(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            );
            let config =
                paperkey::parse_key_text(&text).with_context(|| format!("{}", path.display()))?;
            let fp: Option<Fingerprint> = match &config.fingerprint {
                Some(f) => Some(f.parse()?),
                None => None,
            };
            let pass = match fp {
                Some(fp) => old_passphrase(
                    passphrase.passphrase_file.as_deref(),
                    &fp,
                    config.hint.as_deref(),
                )?,
                None => ask_passphrase(passphrase.passphrase_file.as_deref(), "passphrase")?,
            };
            let (info, imported) = store.import(&config, &pass)?;
            print_imported(&info, imported, out)
        }
        KeyCmd::Restore {
            drive,
            changer,
            label,
            passphrase,
        } => {
            let config = ptape::config::load_config()?;
            let drive = match &changer {
                Some(c) => Some(drive_of_changer(&config, c)?),
                None => drive,
            };
            let mut devices = ptape::library::LibraryDevices::open(&config, drive.as_deref())?;
            let file = passphrase.passphrase_file;
            let ask = |fp: &ptape::keys::Fingerprint, hint: Option<&str>| {
                old_passphrase(file.as_deref(), fp, hint).map_err(|e| match e.downcast() {
                    Ok(k) => k,
                    Err(e) => KeyError::Corrupt(e.to_string()),
                })
            };
            let (found, info, imported) = match &label {
                None => {
                    let mut tape = devices.open_drive()?;
                    ptape::keys::restore_key_from_tape(&store, &mut tape, ask)?
                }
                Some(label) => {
                    if devices.changer_name().is_none() {
                        bail!(
                            "drive {} has no changer to load {label} from; insert the \
                             cartridge and run ptape key restore without LABEL",
                            devices.drive_name()
                        );
                    }
                    let mut tape = devices
                        .load(label)
                        .with_context(|| format!("cannot load {label}"))?;
                    let restored = ptape::keys::restore_key_from_tape(&store, &mut tape, ask);
                    let unloaded = devices.unload(tape);
                    let restored = restored?;
                    unloaded.with_context(|| {
                        format!("key restored, but {label} could not be put back into its slot")
                    })?;
                    restored
                }
            };
            if !out.is_json() {
                println!(
                    "tape {} (media set {}, pool {}):",
                    found.label, found.media_set, found.pool
                );
            }
            print_imported(&info, imported, out)
        }
    }
}

/// The first configured drive of changer `name`.
fn drive_of_changer(config: &ptape::config::Config, name: &str) -> Result<String> {
    if config.changer(name).is_none() {
        bail!("no changer named {name} is configured (ptape changer list)");
    }
    config
        .drives
        .iter()
        .find(|d| d.changer.as_deref() == Some(name))
        .map(|d| d.name.clone())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "changer {name} has no configured drive (ptape drive add --changer {name})"
            )
        })
}

fn print_created(info: &KeyInfo, out: OutputFormat) -> Result<()> {
    out.print(info, |i| i.fingerprint.to_string())
}

fn print_info(info: &KeyInfo, out: OutputFormat) -> Result<()> {
    out.print(info, |i| {
        let mut t = tape_cli::output::KvTable::new();
        t.row("fingerprint", i.fingerprint);
        t.row("hint", i.hint.clone().unwrap_or_default());
        t.row("kdf", i.kdf);
        t.row("created", &i.created);
        t.row("modified", &i.modified);
        t.row(
            "unwrapped copy",
            if i.unwrapped_copy { "yes" } else { "no" },
        );
        t.render()
    })
}

fn print_imported(info: &KeyInfo, imported: Imported, out: OutputFormat) -> Result<()> {
    out.print(info, |i| match imported {
        Imported::Added => format!("imported key {}", i.fingerprint),
        Imported::AlreadyPresent => format!("key {} is already in the key store", i.fingerprint),
    })
}

/// The passphrase from `file`, else `$PTAPE_PASSPHRASE`, else the
/// terminal; `None` when there is no terminal to ask on.
fn given_passphrase(file: Option<&Path>, env: &str) -> Result<Option<Passphrase>> {
    if let Some(file) = file {
        return Ok(Some(Passphrase::from_file(file)?));
    }
    if let Ok(value) = std::env::var(env) {
        return Ok(Some(
            Passphrase::new(Zeroizing::new(value)).with_context(|| format!("${env}"))?,
        ));
    }
    Ok(None)
}

fn prompt(text: &str) -> Result<Zeroizing<String>> {
    let answer = rpassword::prompt_password(format!("{text}: "))
        .with_context(|| format!("cannot read the {text} from the terminal"))?;
    Ok(Zeroizing::new(answer))
}

fn no_terminal(what: &str, env: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the {what} is needed and there is no terminal to ask on: give --passphrase-file FILE or set ${env}"
    )
}

/// The passphrase of an existing key (asked once on a terminal).
fn old_passphrase(file: Option<&Path>, fp: &Fingerprint, hint: Option<&str>) -> Result<Passphrase> {
    if let Some(p) = given_passphrase(file, PASSPHRASE_ENV)? {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(KeyError::NeedPassphrase {
            fingerprint: fp.to_string(),
            hint: hint.map(str::to_string),
        }
        .into());
    }
    let hint = hint.map(|h| format!(" (hint: {h})")).unwrap_or_default();
    Ok(Passphrase::new(prompt(&format!(
        "passphrase of key {}{hint}",
        fp.short()
    ))?)?)
}

fn ask_passphrase(file: Option<&Path>, what: &str) -> Result<Passphrase> {
    if let Some(p) = given_passphrase(file, PASSPHRASE_ENV)? {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal(what, PASSPHRASE_ENV));
    }
    Ok(Passphrase::new(prompt(what)?)?)
}

/// A new passphrase: from `file`, else `$env`, else asked twice.
fn new_passphrase(file: Option<&Path>, env: &str, what: &str) -> Result<Passphrase> {
    if let Some(p) = given_passphrase(file, env)? {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal(what, env));
    }
    let first = Passphrase::new(prompt(what)?)?;
    let again = prompt(&format!("{what} (again)"))?;
    let again = Passphrase::new(again)?;
    if first != again {
        bail!("the two passphrases differ");
    }
    Ok(first)
}
