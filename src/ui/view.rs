//! The view: a pure function of the model, the theme and the keymap. Same
//! model, same frame.

use super::keymap::Keymap;
use super::layout;
use super::model::{Mode, Model, PaneId, Screen};
use super::panes::{
    calls, campaigns, detail, extensions, footer, header, help, history, kpi, queues, status,
};
use super::table::{self, Column, Decor, TableRow};
use super::theme::Theme;
use ratatui::Frame;

/// What the view needs besides the model.
pub struct ViewCtx<'a> {
    /// Colours.
    pub theme: &'a Theme,
    /// For the footer hints and help.
    pub keymap: &'a Keymap,
}

/// Columns of `pane`.
pub fn columns(pane: PaneId) -> &'static [Column] {
    match pane {
        PaneId::Queues => &queues::COLUMNS,
        PaneId::Extensions => &extensions::COLUMNS,
        PaneId::Calls => &calls::COLUMNS,
    }
}

/// The rows of `pane`, filtered and sorted as its table state says.
pub fn rows(model: &Model, pane: PaneId) -> Vec<TableRow<'_>> {
    let sort = model.table(pane).sort;
    let raw = match pane {
        PaneId::Queues => queues::rows(model, sort),
        PaneId::Extensions => extensions::rows(model, sort),
        PaneId::Calls => calls::rows(model, sort),
    };
    table::prepare(raw, model.table(pane))
}

/// Draws one frame.
pub fn draw(f: &mut Frame, model: &Model, ctx: &ViewCtx<'_>) {
    let areas = layout::areas(f.area(), model);
    header::draw(f, areas.header, model, ctx.theme);
    if let Some(area) = areas.status {
        status::draw(f, area, model, ctx.theme);
    }
    match model.screen {
        Screen::History => {
            if let Some(area) = areas.tables.first() {
                history::draw(f, *area, model, ctx.theme);
            }
        }
        Screen::Kpi => kpi::draw(f, &areas.tables, model, ctx.theme),
        Screen::Campaigns => {
            if let Some(area) = areas.tables.first() {
                campaigns::draw(f, *area, model, ctx.theme);
            }
        }
        Screen::Live => {}
    }
    let mut queue_rows = None;
    for (pane, area) in &areas.panes {
        let rows = rows(model, *pane);
        let decor = Decor {
            title: pane.title().to_string(),
            focused: model.focus == *pane,
            theme: ctx.theme,
        };
        table::render(f, *area, columns(*pane), &rows, model.table(*pane), decor);
        if *pane == PaneId::Queues {
            queue_rows = Some(rows);
        }
    }
    if let Some(area) = areas.queue_detail {
        let rows = queue_rows.unwrap_or_else(|| rows(model, PaneId::Queues));
        let q = queues::selected_queue(model, &rows);
        queues::draw_detail(f, area, model, q, ctx.theme);
    }
    footer::draw(f, areas.footer, model, ctx.keymap, ctx.theme);
    if let Some(scroll) = model.history.detail {
        detail::draw(f, f.area(), &model.history, ctx.theme, scroll);
    }
    if let Mode::Confirm { question, .. } = &model.mode {
        help::question(f, f.area(), question, ctx.theme);
    }
    if let Mode::Help { scroll } = model.mode {
        help::draw(f, f.area(), ctx.keymap, ctx.theme, scroll);
    }
}

/// Draws `model` once into an off-screen buffer of `width`×`height`, with the
/// built-in `dark` theme (true colour) and the `default` keymap (the clock
/// reads in the model's time zone): what snapshot tests and the memory benchmark look at.
///
/// Errors: a built-in theme or keymap that does not load (a build defect).
pub fn offscreen(
    model: &Model,
    width: u16,
    height: u16,
) -> anyhow::Result<ratatui::buffer::Buffer> {
    let theme = Theme::builtin("dark", super::theme::ColorMode::TrueColor)?;
    let keymap = Keymap::load("default")?;
    let ctx = ViewCtx {
        theme: &theme,
        keymap: &keymap,
    };
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height))?;
    term.draw(|f| draw(f, model, &ctx))?;
    Ok(term.backend().buffer().clone())
}
