// expect: forbidden-attribute
// expanded: forbidden-attribute
// Embeds a host file into the library's .debug_gdb_scripts section.
#![debugger_visualizer(gdb_script_file = "/etc/shadow")]

pub fn f() -> Option<i32> { Some(0) }
