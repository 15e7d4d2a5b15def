# store_embed_migrations(<target> <sql dir> <symbol>): generate
# <binary dir>/<symbol>.inc from the SQL files and make <target> include it.
function(store_embed_migrations target dir sym)
  file(GLOB sqls CONFIGURE_DEPENDS ${dir}/*.sql)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${sym}.inc)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DDIR=${dir} -DOUT=${out} -DSYM=${sym}
            -P ${PROJECT_SOURCE_DIR}/plugins/store_common/embed_sql.cmake
    DEPENDS ${sqls} ${PROJECT_SOURCE_DIR}/plugins/store_common/embed_sql.cmake
    COMMENT "Embedding migrations from ${dir}")
  add_custom_target(${target}_sql DEPENDS ${out})
  add_dependencies(${target} ${target}_sql)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}
    ${PROJECT_SOURCE_DIR}/plugins/store_common)
endfunction()
