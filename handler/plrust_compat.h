/*
 * plrust_compat.h — the server API differences between the PostgreSQL
 * majors the handler supports (13 to 19), in one place.
 */
#ifndef PLRUST_COMPAT_H
#define PLRUST_COMPAT_H

/*
 * PostgreSQL 18 replaced pg_attribute_noreturn(), an attribute after the
 * declarator, with pg_noreturn, a specifier before the declaration (C11
 * _Noreturn). A leading GCC attribute means the same to the older servers.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

#endif							/* PLRUST_COMPAT_H */
