// expect: forbidden-attribute
// Run code when the library is loaded, before any checks of the call path.
#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = on_load;

extern "C" fn on_load() {
    loop {}
}
