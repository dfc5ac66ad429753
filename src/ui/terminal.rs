//! Terminal setup and teardown. The terminal is restored on normal exit, on
//! panic (hook), and on SIGTERM/SIGHUP (the loop ends, then `restore`).

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use ratatui::DefaultTerminal;
use std::io::stdout;

/// Raw mode, alternate screen, mouse capture; a panic hook that undoes them
/// before the panic message prints.
pub fn init() -> std::io::Result<DefaultTerminal> {
    let terminal = ratatui::try_init()?;
    let ratatui_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui_hook(info);
    }));
    execute!(stdout(), EnableMouseCapture)?;
    Ok(terminal)
}

/// Leaves the alternate screen, raw mode and mouse capture.
pub fn restore() {
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
}
