# Lua runtime tests: same as the default glob, with a short timeout (a hung
# runtime fails fast instead of holding ctest for five minutes).
file(GLOB qts_lua_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_lua_*.c)
foreach(src ${qts_lua_tests})
  get_filename_component(name ${src} NAME_WE)
  qts_add_test(lua ${name} SOURCES ${src} TIMEOUT 90)
endforeach()

# The abandoned (still spinning) strategy's Lua heap is kept on purpose.
set_property(TEST lua.test_lua_endless APPEND PROPERTY ENVIRONMENT
  "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/endless.supp:print_suppressions=0")
