# FindChorusKokkos.cmake — finds an installed Kokkos for the Kokkos backend
# and repairs one known packaging fault, so backends/kokkos/ can link a
# single target, Kokkos::kokkos, whatever the install.
#
#   find_package(ChorusKokkos)   (with this folder on CMAKE_MODULE_PATH)
#
# Sets ChorusKokkos_FOUND, ChorusKokkos_VERSION, ChorusKokkos_DEVICES and
# ChorusKokkos_REASON (why it was not found, for the skip message).
#
# The fault: Debian 12's libtrilinos-kokkos-dev (Kokkos 3.4.1 built inside
# Trilinos) exports Kokkos::kokkos with INTERFACE_INCLUDE_DIRECTORIES
# /usr/include, while the headers live in /usr/include/trilinos (which its
# own Kokkos_INCLUDE_DIRS names correctly). The repair only runs when the
# target's include folders lack Kokkos_Core.hpp and another folder the
# package names has it; a correct install is left exactly as it is.

set(ChorusKokkos_FOUND FALSE)
set(ChorusKokkos_REASON "")

find_package(Kokkos CONFIG QUIET)

if(NOT Kokkos_FOUND)
  set(ChorusKokkos_REASON "find_package(Kokkos) found no KokkosConfig.cmake (set Kokkos_ROOT, or install libtrilinos-kokkos-dev on Debian)")
elseif(NOT TARGET Kokkos::kokkos)
  set(ChorusKokkos_REASON "Kokkos ${Kokkos_VERSION} was found but defines no Kokkos::kokkos target")
else()
  get_target_property(_chorus_kokkos_includes Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT _chorus_kokkos_includes)
    set(_chorus_kokkos_includes "")
  endif()
  set(_chorus_kokkos_has_header FALSE)
  foreach(_dir IN LISTS _chorus_kokkos_includes)
    # Generator expressions cannot be checked here; trust them.
    if(_dir MATCHES "\\$<" OR EXISTS "${_dir}/Kokkos_Core.hpp")
      set(_chorus_kokkos_has_header TRUE)
    endif()
  endforeach()
  if(NOT _chorus_kokkos_has_header)
    set(_chorus_kokkos_fixed "")
    foreach(_dir IN LISTS Kokkos_INCLUDE_DIRS _chorus_kokkos_includes)
      foreach(_candidate "${_dir}" "${_dir}/trilinos")
        get_filename_component(_candidate "${_candidate}" ABSOLUTE)
        if(NOT _chorus_kokkos_fixed AND EXISTS "${_candidate}/Kokkos_Core.hpp")
          set(_chorus_kokkos_fixed "${_candidate}")
        endif()
      endforeach()
    endforeach()
    if(_chorus_kokkos_fixed)
      message(STATUS "chorus: Kokkos::kokkos names include folder '${_chorus_kokkos_includes}', "
                     "which lacks Kokkos_Core.hpp; using ${_chorus_kokkos_fixed} instead")
      set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_chorus_kokkos_fixed}")
      set(_chorus_kokkos_has_header TRUE)
    endif()
  endif()
  if(_chorus_kokkos_has_header)
    set(ChorusKokkos_FOUND TRUE)
    set(ChorusKokkos_VERSION "${Kokkos_VERSION}")
    set(ChorusKokkos_DEVICES "${Kokkos_DEVICES}")
  else()
    set(ChorusKokkos_REASON "Kokkos ${Kokkos_VERSION} was found but Kokkos_Core.hpp is in none of its include folders (${_chorus_kokkos_includes})")
  endif()
endif()

unset(_chorus_kokkos_includes)
unset(_chorus_kokkos_has_header)
unset(_chorus_kokkos_fixed)
unset(_candidate)
unset(_dir)
