# odlc_embed_files(OUTPUT HEADER FUNCTION NAMES_FUNCTION COMMENT FILES...): a custom command that
# writes OUTPUT (a .cpp to add to a library) embedding FILES, with the lookup functions HEADER
# declares (see cmake/EmbedFiles.cmake). The runtime sources and the explore harness use it.
function(odlc_embed_files output header function names_function comment)
  set(files ${ARGN})
  list(SORT files)
  string(REPLACE ";" "|" file_list "${files}")
  set(script ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} "-DFILES=${file_list}" -DHEADER=${header}
            -DFUNCTION=${function} -DNAMES_FUNCTION=${names_function} -P ${script}
    DEPENDS ${files} ${script}
    COMMENT "${comment}"
    VERBATIM)
endfunction()
