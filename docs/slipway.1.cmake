# Makes the manual page slipway(1) from the docs' markdown:
#   cmake -DLOWDOWN=PATH -DDOCS=DIR -DOUT=FILE -P slipway.1.cmake
# The page is docs/slipway.1.md (NAME, SYNOPSIS, DESCRIPTION ...) followed by
# the command reference (docs/commands.md) and the settings reference
# (docs/settings.md), each under its title in capitals, as man pages name
# their sections.  lowdown turns it into roff; the first line asks man for
# tbl(1), which the references' tables need.  OUT is written aside and
# renamed into place, so it is never seen half-written.
file(READ ${DOCS}/slipway.1.md page)
foreach(ref commands settings)
  file(READ ${DOCS}/${ref}.md text)
  string(REGEX MATCH "^# [^\n]*" title "${text}")
  string(TOUPPER "${title}" upper)
  string(LENGTH "${title}" n)
  string(SUBSTRING "${text}" ${n} -1 rest)
  string(APPEND page "\n${upper}${rest}")
endforeach()
file(WRITE ${OUT}.md "${page}")
execute_process(
  COMMAND ${LOWDOWN} -s -Tman --out-no-smarty --nroff-nolinks ${OUT}.md
  OUTPUT_VARIABLE roff RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lowdown failed (${rc}) on ${OUT}.md")
endif()
file(WRITE ${OUT}.tmp "'\\\" t\n${roff}")
file(RENAME ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.md)
