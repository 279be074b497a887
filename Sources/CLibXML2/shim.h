#ifndef CLIBXML2_SHIM_H
#define CLIBXML2_SHIM_H
/* Debian's libxml2 is built with ICU: xmlversion.h defines LIBXML_ICU_ENABLED and encoding.h then
   includes <unicode/ucnv.h> (system ICU 72). Foundation on Linux carries its own ICU clang module
   (_FoundationICU, ICU 76) whose UErrorCode differs, so a clean build of any module that sees both
   fails. We never touch xmlCharEncodingHandler's ICU fields, so hiding that part is safe. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlerror.h>
#endif
