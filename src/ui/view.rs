//! The view: a pure function of the model, the theme and the keymap. Same
//! model, same frame.

use super::chrome::{footer, header, help, status};
use super::keymap::Keymap;
use super::layout;
use super::model::{Mode, Model, Screen};
use super::screens::{audit, campaigns, history, kpi, live};
use super::theme::Theme;
use ratatui::Frame;

/// What the view needs besides the model.
pub struct ViewCtx<'a> {
    /// Colours.
    pub theme: &'a Theme,
    /// For the footer hints and help.
    pub keymap: &'a Keymap,
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
                history::view::draw(f, *area, model, ctx.theme);
            }
        }
        Screen::Kpi => kpi::view::draw(f, &areas.tables, model, ctx.theme),
        Screen::Campaigns => {
            if let Some(area) = areas.tables.first() {
                campaigns::view::draw(f, *area, model, ctx.theme);
            }
        }
        Screen::Live => live::view::draw(f, &areas, model, ctx.theme),
        Screen::Audit => {
            if let Some(area) = areas.tables.first() {
                audit::view::draw(f, *area, model, ctx.theme);
            }
        }
    }
    footer::draw(f, areas.footer, model, ctx.keymap, ctx.theme);
    if let Some(scroll) = model.history.detail {
        history::detail::draw(f, f.area(), model, ctx.theme, scroll);
    }
    if let Mode::Confirm { question, .. } = &model.mode {
        help::question(f, f.area(), question, ctx.theme);
    }
    if let Mode::Menu(menu) = &model.mode {
        super::supervise::view::draw(f, f.area(), menu, ctx.theme);
    }
    if let Mode::Help { scroll } = model.mode {
        help::draw(
            f,
            f.area(),
            (ctx.keymap, &model.supervise),
            ctx.theme,
            scroll,
        );
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
