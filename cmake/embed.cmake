# Generates a C file holding the given files as byte arrays (lua/ and
# scripts/ compiled into the binary), each with its SHA-256 and, when
# LUAC is given, its bytecode: loading bytecode instead of parsing the
# source halved the CPU time of a no-op run (parsing the library and the
# scripts was 44% of its instructions).  The source stays embedded: it is
# what the checksum covers and what `--lua-path`-free error messages
# quote.  Run as:
#   cmake -DOUT=file.c -DROOT=srcdir -DLIST=file-with-a;b [-DLUAC=luac5.4] -P embed.cmake
file(READ "${LIST}" FILES)
set(body "#include \"embedded.h\"\n\n")
set(table "const embedded_file embedded_files[] = {\n")
set(i 0)

function(c_bytes var path)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){24})" "\\1\n" bytes "${bytes}")
  set(${var} "${bytes}" PARENT_SCOPE)
  set(${var}_len ${len} PARENT_SCOPE)
endfunction()

foreach(rel IN LISTS FILES)
  c_bytes(src "${ROOT}/${rel}")
  file(SHA256 "${ROOT}/${rel}" sum)
  string(APPEND body "static const unsigned char f${i}[] = {\n${src}0x00};\n")
  set(code "NULL, 0")
  if(LUAC)
    # run in ROOT with the relative name, so the chunk is named as the
    # embedded file ("@lua/migrate/cli.lua"), not by a build path;
    # debug information is kept for line numbers in errors
    set(out "${OUT}.luac")
    execute_process(COMMAND "${LUAC}" -o "${out}" "${rel}" WORKING_DIRECTORY "${ROOT}"
                    RESULT_VARIABLE rc ERROR_VARIABLE msg)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "luac failed on ${rel}: ${msg}")
    endif()
    c_bytes(bc "${out}")
    file(REMOVE "${out}")
    string(APPEND body "static const unsigned char c${i}[] = {\n${bc}0x00};\n")
    set(code "c${i}, ${bc_len}")
  endif()
  string(APPEND table "    {\"${rel}\", f${i}, ${src_len}, ${code}, \"${sum}\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND table "};\nconst size_t embedded_count = ${i};\n")
file(WRITE "${OUT}.tmp" "${body}\n${table}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
