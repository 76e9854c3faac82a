//! Where lulu keeps things: Neovim's `stdpath('data')/lulu` and
//! `stdpath('state')/lulu`, derived the same way Neovim does so that
//! `lulu list` from a shell finds the editor's store.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Dirs {
    pub data: PathBuf,
    pub state: PathBuf,
}

impl Dirs {
    pub fn resolve(data: Option<PathBuf>, state: Option<PathBuf>) -> Dirs {
        Dirs {
            data: data.unwrap_or_else(|| xdg("XDG_DATA_HOME", ".local/share")),
            state: state.unwrap_or_else(|| xdg("XDG_STATE_HOME", ".local/state")),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.data.join("lulu.db")
    }
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    let base = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(fallback));
    let app = std::env::var("NVIM_APPNAME")
        .ok()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "nvim".into());
    base.join(app).join("lulu")
}
