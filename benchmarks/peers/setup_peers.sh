#!/usr/bin/env bash
# Create one virtual environment per peer method (landmarks; opencv: Haar detector for speed) so their pinned dependencies (mediapipe needs numpy<2)
# never touch facealign's environment. Usage: benchmarks/peers/setup_peers.sh [dlib|mediapipe|opencv ...]
# Location: <peer environments>/<name>/, where the folder is $FACEALIGN_PEER_ENVS, default peer-envs under the cache
# folder ($FACEALIGN_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/facealign): the rule of facealign.paths.peer_envs_dir,
# which the benchmarks read. python: $PYTHON (default python3, 3.9-3.12).
set -euo pipefail
root="${FACEALIGN_PEER_ENVS:-${FACEALIGN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/facealign}/peer-envs}"
py="${PYTHON:-python3}"
peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(dlib mediapipe)

make_env() {  # make_env NAME PACKAGES...
    local name="$1"; shift
    local env="$root/$name"
    if [ ! -x "$env/bin/python" ]; then
        "$py" -m venv "$env"
    fi
    "$env/bin/python" -m pip install --quiet --upgrade pip
    "$env/bin/python" -m pip install --quiet "$@"
    echo "$name: $env/bin/python"
}

for p in "${peers[@]}"; do
    case "$p" in
        # dlib-bin: prebuilt dlib wheels; face-recognition-models ships shape_predictor_68_face_landmarks.dat
        dlib) make_env dlib dlib-bin face-recognition-models "numpy<2" setuptools ;;
        # mediapipe 0.10.21 still has the legacy solutions.face_mesh API and needs numpy<2
        mediapipe) make_env mediapipe mediapipe==0.10.21 "numpy<2" opencv-python-headless ;;
        # OpenCV's Haar cascade detector (speed peer): 4.x wheels ship the cascades in cv2.data.haarcascades
        opencv) make_env opencv "opencv-python-headless>=4.8,<5" "numpy<2" ;;
        *) echo "unknown peer: $p (dlib, mediapipe, opencv)" >&2; exit 2 ;;
    esac
done
