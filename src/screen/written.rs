//! Spaces a program wrote, told apart from cells it never touched.
//!
//! A terminal keeps a line's trailing spaces when the program wrote them
//! (`…lazy dog ` stays so in Neovim's `:terminal`, which tells a written
//! cell from an empty one), but alacritty's grid stores a written space
//! and an erased cell alike. So the model's parser hands alacritty
//! [`WRITTEN_SPACE`] for every space the program prints ([`Tap`]); the
//! model's readers show it as a space ([`super::serialize`]), and a repaint
//! writes it as one, where an untouched cell is not written at all.

use alacritty_terminal::vte::ansi::cursor_icon::CursorIcon;
use alacritty_terminal::vte::ansi::{
    Attr, CharsetIndex, ClearMode, CursorShape, CursorStyle, Handler, Hyperlink, KeyboardModes,
    KeyboardModesApplyBehavior, LineClearMode, Mode, ModifyOtherKeys, PrivateMode, Rgb, ScpCharPath, ScpUpdateMode,
    StandardCharset, TabulationClearMode,
};

/// A space the program wrote, as the grid stores it: a noncharacter
/// (Unicode keeps U+FDD0..U+FDEF for a program's own use, never for
/// interchange), one cell wide as a space is.
pub(super) const WRITTEN_SPACE: char = '\u{FDD0}';

/// The terminal, as the parser drives it, with written spaces marked.
pub(super) struct Tap<'a, H: Handler>(pub &'a mut H);

/// Each handler call passed on unchanged.
macro_rules! pass {
    ($(fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*);)*) => {
        $(
            #[inline]
            fn $name(&mut self $(, $arg: $ty)*) {
                self.0.$name($($arg),*)
            }
        )*
    };
}

impl<H: Handler> Handler for Tap<'_, H> {
    #[inline]
    fn input(&mut self, c: char) {
        self.0.input(if c == ' ' { WRITTEN_SPACE } else { c });
    }

    pass! {
        fn set_title(&mut self, a0: Option<String>);
        fn set_cursor_style(&mut self, a0: Option<CursorStyle>);
        fn set_cursor_shape(&mut self, a0: CursorShape);
        fn goto(&mut self, a0: i32, a1: usize);
        fn goto_line(&mut self, a0: i32);
        fn goto_col(&mut self, a0: usize);
        fn insert_blank(&mut self, a0: usize);
        fn move_up(&mut self, a0: usize);
        fn move_down(&mut self, a0: usize);
        fn identify_terminal(&mut self, a0: Option<char>);
        fn device_status(&mut self, a0: usize);
        fn move_forward(&mut self, a0: usize);
        fn move_backward(&mut self, a0: usize);
        fn move_down_and_cr(&mut self, a0: usize);
        fn move_up_and_cr(&mut self, a0: usize);
        fn put_tab(&mut self, a0: u16);
        fn backspace(&mut self);
        fn carriage_return(&mut self);
        fn linefeed(&mut self);
        fn bell(&mut self);
        fn substitute(&mut self);
        fn newline(&mut self);
        fn set_horizontal_tabstop(&mut self);
        fn scroll_up(&mut self, a0: usize);
        fn scroll_down(&mut self, a0: usize);
        fn insert_blank_lines(&mut self, a0: usize);
        fn delete_lines(&mut self, a0: usize);
        fn erase_chars(&mut self, a0: usize);
        fn delete_chars(&mut self, a0: usize);
        fn move_backward_tabs(&mut self, a0: u16);
        fn move_forward_tabs(&mut self, a0: u16);
        fn save_cursor_position(&mut self);
        fn restore_cursor_position(&mut self);
        fn clear_line(&mut self, a0: LineClearMode);
        fn clear_screen(&mut self, a0: ClearMode);
        fn clear_tabs(&mut self, a0: TabulationClearMode);
        fn set_tabs(&mut self, a0: u16);
        fn reset_state(&mut self);
        fn reverse_index(&mut self);
        fn terminal_attribute(&mut self, a0: Attr);
        fn set_mode(&mut self, a0: Mode);
        fn unset_mode(&mut self, a0: Mode);
        fn report_mode(&mut self, a0: Mode);
        fn set_private_mode(&mut self, a0: PrivateMode);
        fn unset_private_mode(&mut self, a0: PrivateMode);
        fn report_private_mode(&mut self, a0: PrivateMode);
        fn set_scrolling_region(&mut self, a0: usize, a1: Option<usize>);
        fn set_keypad_application_mode(&mut self);
        fn unset_keypad_application_mode(&mut self);
        fn set_active_charset(&mut self, a0: CharsetIndex);
        fn configure_charset(&mut self, a0: CharsetIndex, a1: StandardCharset);
        fn set_color(&mut self, a0: usize, a1: Rgb);
        fn dynamic_color_sequence(&mut self, a0: String, a1: usize, a2: &str);
        fn reset_color(&mut self, a0: usize);
        fn clipboard_store(&mut self, a0: u8, a1: &[u8]);
        fn clipboard_load(&mut self, a0: u8, a1: &str);
        fn decaln(&mut self);
        fn push_title(&mut self);
        fn pop_title(&mut self);
        fn text_area_size_pixels(&mut self);
        fn text_area_size_chars(&mut self);
        fn set_hyperlink(&mut self, a0: Option<Hyperlink>);
        fn set_mouse_cursor_icon(&mut self, a0: CursorIcon);
        fn report_keyboard_mode(&mut self);
        fn push_keyboard_mode(&mut self, a0: KeyboardModes);
        fn pop_keyboard_modes(&mut self, a0: u16);
        fn set_keyboard_mode(&mut self, a0: KeyboardModes, a1: KeyboardModesApplyBehavior);
        fn set_modify_other_keys(&mut self, a0: ModifyOtherKeys);
        fn report_modify_other_keys(&mut self);
        fn set_scp(&mut self, a0: ScpCharPath, a1: ScpUpdateMode);
    }
}
